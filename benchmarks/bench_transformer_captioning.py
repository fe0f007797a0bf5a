"""Transformer captioning speed, as ratios measured in one process (float32, 2 threads).

(a) One training step (forward, backward, Adam) of vislab's CaptioningTransformer against the
    same network built from torch's nn.TransformerDecoder with a causal mask: batch 25, T=16,
    wordvec 256, 2 heads, 2 layers, V=1004, D=512. Target: at most 1.1x.
(b) Greedy sampling of 30 words for 100 images with the key/value cache against re-running
    the whole prefix every step (the course's sampler). Target: at least 3x faster. `<END>` is
    suppressed so that both run all 30 steps.

Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_transformer_captioning.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn

from results import report
from vislab.captioning.transformer import CaptioningTransformer
from vislab.captioning.transformer_solver import transformer_temporal_softmax_loss
from vislab.torch_nn import PositionalEncoding

N, T, W, HEADS, LAYERS, V, D = 25, 16, 256, 2, 2, 1004, 512
WORDS = ["<NULL>", "<START>", "<END>", "<UNK>"] + [f"w{i}" for i in range(V - 4)]


class TorchDecoderCaptioner(nn.Module):
    """The same captioner on nn.TransformerDecoder (post-norm, ReLU, feed-forward 2048)."""

    def __init__(self):
        super().__init__()
        self.visual_projection = nn.Linear(D, W)
        self.embedding = nn.Embedding(V, W, padding_idx=0)
        self.positional_encoding = PositionalEncoding(W, max_len=50)
        layer = nn.TransformerDecoderLayer(W, HEADS, 2048, 0.1, batch_first=True)
        self.transformer = nn.TransformerDecoder(layer, LAYERS)
        self.output = nn.Linear(W, V)
        self._null = 0

    def forward(self, features, captions):
        steps = captions.shape[1]
        x = self.positional_encoding(self.embedding(captions))
        memory = self.visual_projection(features).unsqueeze(1)
        causal = nn.Transformer.generate_square_subsequent_mask(steps)
        return self.output(self.transformer(x, memory, tgt_mask=causal))


def training_step(model, optimizer, features, captions):
    scores = model(features, captions[:, :-1])
    mask = captions[:, 1:] != model._null
    loss = transformer_temporal_softmax_loss(scores, captions[:, 1:], mask)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def time_interleaved(functions: dict, repeats: int) -> dict[str, float]:
    """Median seconds per call, calling the candidates in turn so noise hits both alike."""
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def bench_training(repeats: int) -> tuple[dict, float]:
    torch.manual_seed(0)
    word_to_idx = {word: i for i, word in enumerate(WORDS)}
    ours = CaptioningTransformer(word_to_idx, D, W, num_heads=HEADS, num_layers=LAYERS)
    theirs = TorchDecoderCaptioner()
    features = torch.randn(N, D)
    captions = torch.randint(1, V, (N, T + 1))
    functions = {}
    for name, model in (("vislab", ours), ("nn.TransformerDecoder", theirs)):
        optimizer = torch.optim.Adam(model.parameters(), 1e-3)
        model.train()
        step = lambda m=model, o=optimizer: training_step(m, o, features, captions)  # noqa: E731
        for _ in range(3):
            step()
        functions[name] = step
    times = time_interleaved(functions, repeats)
    return times, times["vislab"] / times["nn.TransformerDecoder"]


def bench_sampling(repeats: int) -> tuple[dict, float, bool]:
    torch.manual_seed(0)
    model = CaptioningTransformer({w: i for i, w in enumerate(WORDS)}, D, W, 2, 2).eval()
    with torch.no_grad():
        model.output.bias[model._end] = -1e4  # never stop early: both run 30 steps
    features = np.random.default_rng(0).standard_normal((100, D)).astype(np.float32)
    outputs = {}

    def run(use_cache):
        outputs[use_cache] = model.sample(features, max_length=30, use_cache=use_cache)

    run(True)
    run(False)
    times = time_interleaved({"cached": lambda: run(True), "uncached": lambda: run(False)}, repeats)
    same = bool(np.array_equal(outputs[True], outputs[False]))
    return times, times["uncached"] / times["cached"], same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    step_times, step_ratio = bench_training(5 if args.quick else 20)
    sample_times, speedup, same = bench_sampling(2 if args.quick else 5)
    # One-row decoding steps are small matrix products; on a busy machine two threads mostly
    # wait for each other, so the 1-thread figure is given as well.
    torch.set_num_threads(1)
    one_thread, one_thread_speedup, _ = bench_sampling(2 if args.quick else 3)
    torch.set_num_threads(2)
    body = "\n".join(
        [
            "| measurement | time | ratio | target |",
            "| --- | --- | --- | --- |",
            f"| training step, vislab | {step_times['vislab'] * 1e3:.1f} ms | "
            f"{step_ratio:.2f}x of nn.TransformerDecoder | <= 1.1x |",
            f"| training step, nn.TransformerDecoder | "
            f"{step_times['nn.TransformerDecoder'] * 1e3:.1f} ms | 1.00x | |",
            f"| greedy 30 words x 100 images, cached | {sample_times['cached'] * 1e3:.0f} ms | "
            f"{speedup:.2f}x faster | >= 3x |",
            f"| greedy 30 words x 100 images, re-running the prefix | "
            f"{sample_times['uncached'] * 1e3:.0f} ms | 1.00x | |",
            f"| same, 1 thread: cached / re-running | {one_thread['cached'] * 1e3:.0f} / "
            f"{one_thread['uncached'] * 1e3:.0f} ms | {one_thread_speedup:.2f}x faster | |",
            "",
            f"Cached and uncached captions identical: {same}. Medians of interleaved runs"
            f"{' (quick run)' if args.quick else ''}.",
        ]
    )
    report("Transformer captioning: training step and cached decoding", body)


if __name__ == "__main__":
    main()
