"""The captioner registry: every captioning model trains and loads through one pair of functions.

    train_captioner("rnn" | "lstm" | "transformer", data_dir, out_dir, epochs=..., ...)
    load_captioner("out/best.pt").sample(features, max_length=30, beam_size=3)

Each entry names the module and functions that implement it; the module is imported only
when that model is used. A training run writes `out_dir/last.pt` (every epoch), `best.pt`
(best validation loss), `history.json` and `loss_curve.png`. A checkpoint is a dict that
`torch.load(path, weights_only=True)` reads, with the model's registry name under "model".
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vislab.captioning.rnn import CaptioningRNN
from vislab.captioning.solver import CaptioningSolver, read_checkpoint
from vislab.captioning.training_history import write_history
from vislab.datasets.coco import load_coco_data
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError
from vislab.numpy_nn.blas_threads import blas_threads as limit_blas_threads


@dataclass(frozen=True)
class CaptionerType:
    """Where a model's `train(data_dir, out_dir, **options)` and `load(path, device)` live."""

    module: str
    train: str
    load: str
    description: str
    options: dict = field(default_factory=dict)  # fixed keyword arguments of `train`


CAPTIONERS: dict[str, CaptionerType] = {
    "rnn": CaptionerType(
        __name__,
        "train_numpy_captioner",
        "load_numpy_captioner",
        "vanilla RNN (numpy)",
        {"cell_type": "rnn"},
    ),
    "lstm": CaptionerType(
        __name__,
        "train_numpy_captioner",
        "load_numpy_captioner",
        "LSTM (numpy)",
        {"cell_type": "lstm"},
    ),
    "transformer": CaptionerType(
        "vislab.captioning.transformer_training",
        "train_transformer_captioner",
        "load_transformer_captioner",
        "Transformer decoder (torch)",
    ),
}


@dataclass
class TrainedCaptioner:
    """Where a training run left its files, and its loss histories."""

    best_checkpoint: Path
    last_checkpoint: Path
    history: dict


def _entry(model: str) -> CaptionerType:
    if model not in CAPTIONERS:
        raise InvalidInputError(f"unknown captioner {model!r}; choose from {sorted(CAPTIONERS)}")
    return CAPTIONERS[model]


def _function(entry: CaptionerType, name: str):
    return getattr(importlib.import_module(entry.module), name)


def train_captioner(model: str, data_dir, out_dir, **options):
    """Train the registered `model` on a `coco_captioning` folder into `out_dir`.

    Common keywords: epochs, batch_size, learning_rate, seed=0, device="cpu", resume=False,
    max_train=None, progress=False; others are the model's own options.
    Returns an object with `.best_checkpoint` (Path) and `.history` (dict of lists).
    """
    entry = _entry(model)
    train = _function(entry, entry.train)
    parameters = inspect.signature(train).parameters
    if all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        unknown = sorted(set(options) - set(parameters))
        if unknown:
            raise InvalidInputError(f"the {model} captioner has no option {', '.join(unknown)}")
    return train(data_dir, out_dir, **entry.options, **options)


def load_captioner(checkpoint_path: str | os.PathLike, device: str = "cpu"):
    """Load any registered captioner's checkpoint -> an object with `.model_name`,
    `.word_to_idx`, `.idx_to_word` and `.sample(features (N, D), max_length=30, beam_size=1)`."""
    import torch

    path = Path(checkpoint_path)
    if not path.is_file():
        raise DataNotFoundError(
            f"checkpoint {path} does not exist; train one with "
            "`vislab caption train --out DIR` (it writes DIR/best.pt)"
        )
    try:
        header = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except (RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as error:
        raise CorruptFileError(f"{path} is not a vislab captioning checkpoint: {error}") from error
    entry = _entry(header.get("model") if isinstance(header, dict) else None)
    return _function(entry, entry.load)(path, device)


class NumpyCaptioner:
    """A trained numpy CaptioningRNN behind the registry's captioner interface."""

    def __init__(self, checkpoint: dict):
        config = dict(checkpoint["config"])
        self.model_name = checkpoint["model"]
        self.model = CaptioningRNN(
            checkpoint["word_to_idx"],
            input_dim=config["input_dim"],
            wordvec_dim=config["wordvec_dim"],
            hidden_dim=config["hidden_dim"],
            cell_type=config["cell_type"],
            dtype=np.dtype(config["dtype"]).type,
        )
        self.model.params = {k: np.asarray(v) for k, v in checkpoint["params"].items()}
        self.word_to_idx = dict(checkpoint["word_to_idx"])
        self.idx_to_word = [w for w, _ in sorted(self.word_to_idx.items(), key=lambda x: x[1])]
        self.history = checkpoint.get("history", {})
        self.epoch = checkpoint.get("epoch")

    def sample(self, features: np.ndarray, max_length: int = 30, beam_size: int = 1):
        """features: (N, D) -> captions (N, max_length) int, `<NULL>`-padded after `<END>`."""
        features = np.asarray(features)
        expected = self.model.params["W_proj"].shape[0]
        if features.ndim != 2 or features.shape[1] != expected:
            raise InvalidInputError(f"features must be (N, {expected}), got {features.shape}")
        return self.model.sample(features, max_length=max_length, beam_size=beam_size)


def load_numpy_captioner(path: str | os.PathLike, device: str = "cpu") -> NumpyCaptioner:
    """Load `best.pt` / `last.pt` written by `train_numpy_captioner` (numpy runs on the CPU)."""
    return NumpyCaptioner(read_checkpoint(path))


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
) -> TrainedCaptioner:
    """Train a numpy CaptioningRNN with Adam; with `resume`, continue from out_dir/last.pt.

    `blas_threads` limits numpy's OpenBLAS threads while training (1 is much faster for small
    models on a busy machine); None leaves the setting alone.
    """
    if device != "cpu":
        raise InvalidInputError(f"the numpy captioners run on the CPU only, not {device!r}")
    if epochs < 1 or batch_size < 1:
        raise InvalidInputError("epochs and batch_size must be at least 1")
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    data = load_coco_data(data_dir, max_train=max_train, rng=rng)
    model = CaptioningRNN(
        data["word_to_idx"],
        input_dim=data["train_features"].shape[1],
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
        checkpoint_dir=out,
        max_val_captions=max_val_captions,
        progress=progress,
    )
    if resume and (out / "last.pt").is_file():
        solver.resume(out / "last.pt")
    with contextlib.nullcontext() if blas_threads is None else limit_blas_threads(blas_threads):
        solver.train()
    history = solver.history
    write_history(out, history, f"{cell_type} captioner", "loss per caption")
    return TrainedCaptioner(out / "best.pt", out / "last.pt", history)
