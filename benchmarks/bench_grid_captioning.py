"""Speed of the grid captioners, as same-process ratios (issue 17's targets: both at most 1.3x):

1. one training step (loss, gradients, Adam) of the numpy AttentionCaptioningLSTM against the
   same model from torch built-ins (Linear h0 from the mean cell, Embedding, nn.LSTMCell on
   [word, context] with additive attention over the cells and their position code from
   nn.Linear/tanh/softmax, Linear to V, masked cross-entropy, Adam), float32, one thread each;
2. one training step of the Transformer captioner attending over the 9 grid cells against the
   course's single-vector one (same widths, same batch).

Sizes: the scene benchmark's (N=100 captions, T=16, L=9 cells of F=64, W=64, H=128, V=75;
Transformer width 64, 2 layers, 4 heads). Time: median over interleaved rounds.

    PYTHONPATH=src:benchmarks .venv/bin/python benchmarks/bench_grid_captioning.py [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from bench_numpy_captioning import time_steps
from results import report
from vislab.captioning.numpy_attention_lstm import (
    POSITION_DIM,
    AttentionCaptioningLSTM,
    cell_positions,
)
from vislab.captioning.transformer import CaptioningTransformer
from vislab.captioning.transformer_solver import transformer_temporal_softmax_loss
from vislab.numpy_nn import adam
from vislab.numpy_nn.blas_threads import blas_threads
from vislab.torch_nn.attention_lstm import SoftAttentionLSTM, load_numpy_weights

N, T, L, F_DIM, W, H, V = 100, 16, 9, 64, 64, 128, 75
WORD_TO_IDX = {"<NULL>": 0, "<START>": 1, "<END>": 2, **{f"w{i}": i for i in range(3, V)}}


def batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((N, L, F_DIM)).astype(np.float32)
    captions = rng.integers(4, V, size=(N, T + 1))
    captions[:, 0] = 1
    for row, length in zip(captions, rng.integers(6, T + 1, size=N), strict=True):
        row[length:] = 0  # <NULL> padding, masked in the loss
    return features, captions


def numpy_attention_step():
    model = AttentionCaptioningLSTM(WORD_TO_IDX, F_DIM, W, H, rng=np.random.default_rng(0))
    configs = {name: {"learning_rate": 1e-3} for name in model.params}
    features, captions = batch()

    def step():
        loss, grads = model.loss(features, captions)
        for name, value in model.params.items():
            model.params[name], configs[name] = adam(value, grads[name], configs[name])
        return loss

    return step, model


class TorchAttentionCaptioner(torch.nn.Module):
    """The numpy model's computation from torch built-ins."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(F_DIM, H)
        self.embed = torch.nn.Embedding(V, W)
        self.lstm = SoftAttentionLSTM(W, F_DIM + POSITION_DIM, H, H)
        self.vocab = torch.nn.Linear(H, V)
        self.register_buffer("code", torch.from_numpy(cell_positions(L)))  # (L, 4)

    def loss(self, features, captions):
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        cells = torch.cat([features, self.code.expand(len(features), -1, -1)], dim=2)
        hidden, _ = self.lstm(self.embed(captions_in), cells, self.proj(features.mean(1)))
        scores = self.vocab(hidden)  # (N, T, V)
        losses = F.cross_entropy(scores.reshape(-1, V), captions_out.reshape(-1), reduction="none")
        return (losses * (captions_out != 0).reshape(-1)).sum() / captions.shape[0]


def torch_attention_step(numpy_model: AttentionCaptioningLSTM):
    model = TorchAttentionCaptioner()
    load_numpy_weights(model.lstm, numpy_model.params)  # the same weights as the numpy model
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    features, captions = (torch.from_numpy(a) for a in batch())

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = model.loss(features, captions)
        loss.backward()
        optimizer.step()
        return loss.detach().item()

    return step


def transformer_step(grid: bool):
    torch.manual_seed(0)
    model = CaptioningTransformer(
        WORD_TO_IDX, input_dim=F_DIM, wordvec_dim=W, num_heads=4, num_layers=2,
        grid_shape=(3, 3) if grid else None,
    )  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    features, captions = (torch.from_numpy(a) for a in batch())
    features = features if grid else features.mean(dim=1)  # (N, L, F) or (N, F)

    def step():
        optimizer.zero_grad(set_to_none=True)
        scores = model(features, captions[:, :-1])
        loss = transformer_temporal_softmax_loss(scores, captions[:, 1:], captions[:, 1:] != 0)
        loss.backward()
        optimizer.step()
        return loss.detach().item()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    args = parser.parse_args()
    rounds, per_round = (3, 1) if args.quick else (7, 3)
    torch.set_num_threads(1)
    with blas_threads(1):
        numpy_step, numpy_model = numpy_attention_step()
        times = time_steps(
            {
                "numpy attention LSTM": numpy_step,
                "torch built-ins attention LSTM": torch_attention_step(numpy_model),
                "Transformer over 9 cells": transformer_step(grid=True),
                "Transformer, one vector": transformer_step(grid=False),
            },
            rounds,
            per_round,
        )
    lstm_ratio = times["numpy attention LSTM"] / times["torch built-ins attention LSTM"]
    grid_ratio = times["Transformer over 9 cells"] / times["Transformer, one vector"]
    rows = "\n".join(f"| {name} | {1000 * value:.1f} |" for name, value in times.items())
    body = (
        f"One training step, N={N} captions of T={T}, L={L} cells of {F_DIM} features, "
        f"W={W}, H={H}, V={V}; one thread; median of {rounds} interleaved rounds of "
        f"{per_round}.\n\n| step | ms |\n|---|---|\n{rows}\n\n"
        f"- numpy attention LSTM / torch built-ins: **{lstm_ratio:.2f}x** (target <= 1.3x: "
        f"{'met' if lstm_ratio <= 1.3 else 'NOT met'})\n"
        f"- grid Transformer / single-vector Transformer: **{grid_ratio:.2f}x** (target <= "
        f"1.3x: {'met' if grid_ratio <= 1.3 else 'NOT met'})"
    )
    report("Grid captioners: training-step speed ratios", body)


if __name__ == "__main__":
    main()
