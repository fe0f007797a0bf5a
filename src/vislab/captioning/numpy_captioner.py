"""Train, save and load the numpy RNN/LSTM captioners: what `vislab caption train/sample --model
rnn|lstm` call.

`train_numpy_captioner` runs a `CaptioningSolver` with Adam; `load_numpy_captioner` gives a
`NumpyCaptioner` whose `sample(features, max_length, beam_size)` captions images. Output folder:
`last.pt` (every epoch), `best.pt` (best validation loss), `history.json`, `loss_curve.png`.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vislab.captioning.caption_runs import coco_fingerprint, write_caption_history
from vislab.captioning.numpy_attention_lstm import ATTENTION_LSTM, AttentionCaptioningLSTM
from vislab.captioning.numpy_rnn import CaptioningRNN
from vislab.captioning.numpy_solver import CaptioningSolver, fitted_params, read_checkpoint
from vislab.checkpoints import checkpoint_errors
from vislab.datasets.coco import load_coco_data, require_training_data
from vislab.datasets.grid_data import require_grid_features
from vislab.errors import InvalidInputError
from vislab.numpy_nn.blas_threads import blas_threads as limit_blas_threads
from vislab.run_guard import DEFAULT_CHECKPOINT_EVERY, CheckpointEvery
from vislab.runs import open_run
from vislab.seeding import seed_everything


@dataclass
class TrainedCaptioner:
    """Where a training run left its files, and its loss histories."""

    best_checkpoint: Path
    last_checkpoint: Path
    history: dict


def _model_class(cell_type: str) -> type[CaptioningRNN]:
    return AttentionCaptioningLSTM if cell_type == ATTENTION_LSTM else CaptioningRNN


class NumpyCaptioner:
    """A trained numpy CaptioningRNN behind the registry's captioner interface."""

    def __init__(self, checkpoint: dict):
        config = dict(checkpoint["config"])
        self.model_name = checkpoint["model"]
        dtype = np.dtype(config.pop("dtype")).type
        self.model = _model_class(config["cell_type"])(
            checkpoint["word_to_idx"], dtype=dtype, **config
        )
        # "grid": features (N, L, D), one row per grid cell; "vector": (N, D).
        self.feature_layout = getattr(self.model, "feature_layout", "vector")
        self.model.params = fitted_params(self.model, checkpoint["params"])
        self.word_to_idx = dict(checkpoint["word_to_idx"])
        self.idx_to_word = [w for w, _ in sorted(self.word_to_idx.items(), key=lambda x: x[1])]
        self.history = checkpoint.get("history", {})
        self.epoch = checkpoint.get("epoch")
        self.longest_caption = None  # an RNN decodes any number of steps

    def sample(self, features: np.ndarray, max_length: int = 30, beam_size: int = 1, **decoding):
        """features: (N, D) (or (N, L, D) for grid models) -> captions (N, max_length) int,
        `<NULL>`-padded after `<END>`. decoding: length_penalty, block_trigrams (beam search)."""
        features = np.asarray(features)
        expected = self.model.params["W_proj"].shape[0]
        ndim, shape = (
            (3, f"(N, L, {expected})") if self.feature_layout == "grid" else (2, f"(N, {expected})")
        )
        if features.ndim != ndim or features.shape[-1] != expected:
            raise InvalidInputError(f"features must be {shape}, got {features.shape}")
        return self.model.sample(features, max_length, beam_size, **decoding)


def load_numpy_captioner(path: str | os.PathLike, device: str = "cpu") -> NumpyCaptioner:
    """Load `best.pt` / `last.pt` written by `train_numpy_captioner` (numpy runs on the CPU)."""
    checkpoint = read_checkpoint(path)
    with checkpoint_errors(path):
        return NumpyCaptioner(checkpoint)


def train_numpy_captioner(
    data_dir: str | os.PathLike | None,
    out_dir: str | os.PathLike,
    *,
    cell_type: str = "rnn",
    epochs: int = 10,
    batch_size: int = 100,
    learning_rate: float = 5e-3,
    lr_decay: float = 0.95,
    seed: int = 0,
    device: str = "cpu",
    resume: bool = False,
    max_train: int | None = None,
    progress: bool = False,
    wordvec_dim: int = 256,
    hidden_dim: int = 512,
    max_val_captions: int = 1000,
    blas_threads: int | None = None,
    checkpoint_every: str = DEFAULT_CHECKPOINT_EVERY,
) -> TrainedCaptioner:
    """Train a numpy CaptioningRNN with Adam into the run folder `out_dir` (vislab.runs);
    with `resume`, continue its last.pt (same options and data, more epochs allowed).

    `blas_threads` limits numpy's OpenBLAS threads while training (1 is much faster for small
    models on a busy machine); None leaves the setting alone. `checkpoint_every`: "5min",
    "200it", ... between the per-epoch checkpoints.
    """
    if device != "cpu":
        raise InvalidInputError(f"the numpy captioners run on the CPU only, not {device!r}")
    if epochs < 1 or batch_size < 1:
        raise InvalidInputError("epochs and batch_size must be at least 1")
    every = CheckpointEvery.parse(checkpoint_every)
    options = {
        "cell_type": cell_type, "epochs": epochs, "batch_size": batch_size,
        "learning_rate": learning_rate, "lr_decay": lr_decay, "seed": seed, "device": device,
        "max_train": max_train, "wordvec_dim": wordvec_dim, "hidden_dim": hidden_dim,
        "max_val_captions": max_val_captions, "blas_threads": blas_threads,
        "checkpoint_every": checkpoint_every,
    }  # fmt: skip
    seed_everything(seed)  # the numpy model draws from `rng`; torch's state is kept the same
    rng = np.random.default_rng(seed)
    data = load_coco_data(data_dir, max_train=max_train, rng=rng)
    require_training_data(data, data_dir)
    if cell_type == ATTENTION_LSTM:  # the solver reads `*_features`: give it the grid
        require_grid_features(data, data_dir, cell_type)
        data = {**data, "train_features": data["train_grid_features"]}
        data["val_features"] = data["val_grid_features"]
    folder = open_run(out_dir, options, coco_fingerprint(data_dir, data), resume=resume)
    model = _model_class(cell_type)(
        data["word_to_idx"],
        input_dim=data["train_features"].shape[-1],
        wordvec_dim=wordvec_dim,
        hidden_dim=hidden_dim,
        cell_type=cell_type,
        rng=rng,
    )
    solver = CaptioningSolver(
        model,
        data,
        update_rule="adam",
        optim_config={"learning_rate": learning_rate},
        lr_decay=lr_decay,
        batch_size=batch_size,
        num_epochs=epochs,
        verbose=True,
        seed=seed,
        checkpoint_dir=folder.path,
        checkpoint_every=every,
        max_val_captions=max_val_captions,
        progress=progress,
    )
    if folder.resuming:
        solver.resume(folder.last)
    with contextlib.nullcontext() if blas_threads is None else limit_blas_threads(blas_threads):
        solver.train()
    history = solver.history
    write_caption_history(folder, history, f"{cell_type} captioner", "loss per caption")
    return TrainedCaptioner(folder.best, folder.last, history)
