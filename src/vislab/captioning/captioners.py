"""The captioner registry: every captioning model trains and loads through one pair of functions.

    train_captioner("rnn" | "lstm" | "transformer", data_dir, out_dir, epochs=..., ...)
    load_captioner("out/best.pt").sample(features, max_length=30, beam_size=3)

Each family lives in its own module with the same three parts: `train_*(data_dir, out_dir,
**options)`, `load_*(path, device)` and the loaded captioner's `.sample(features, max_length,
beam_size)` (numpy_captioner.py for rnn/lstm, transformer_captioner.py). Options are checked
here, once, against the train function's keywords. A checkpoint is a dict that
`torch.load(path, weights_only=True)` reads, with the model's registry name under "model".
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vislab.captioning.numpy_captioner import (
    TrainedCaptioner,
    load_numpy_captioner,
    train_numpy_captioner,
)
from vislab.captioning.transformer_captioner import (
    load_transformer_captioner,
    train_transformer_captioner,
)
from vislab.checkpoints import read_checkpoint
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError

__all__ = ["CAPTIONERS", "CaptionerType", "TrainedCaptioner", "load_captioner", "train_captioner"]


@dataclass(frozen=True)
class CaptionerType:
    """A model's `train(data_dir, out_dir, **options)` and `load(path, device)` functions."""

    train: Callable
    load: Callable
    description: str
    options: dict = field(default_factory=dict)  # fixed keyword arguments of `train`


CAPTIONERS: dict[str, CaptionerType] = {
    "rnn": CaptionerType(
        train_numpy_captioner, load_numpy_captioner, "vanilla RNN (numpy)", {"cell_type": "rnn"}
    ),
    "lstm": CaptionerType(
        train_numpy_captioner, load_numpy_captioner, "LSTM (numpy)", {"cell_type": "lstm"}
    ),
    "attention-lstm": CaptionerType(
        train_numpy_captioner,
        load_numpy_captioner,
        "LSTM with soft attention over the grid cells (numpy)",
        {"cell_type": "attention-lstm"},
    ),
    "transformer": CaptionerType(
        train_transformer_captioner, load_transformer_captioner, "Transformer decoder (torch)"
    ),
    "transformer-grid": CaptionerType(
        train_transformer_captioner,
        load_transformer_captioner,
        "Transformer decoder attending over the grid cells (torch)",
        {"grid": True},
    ),
}


def _entry(model: str) -> CaptionerType:
    if model not in CAPTIONERS:
        raise InvalidInputError(f"unknown captioner {model!r}; choose from {sorted(CAPTIONERS)}")
    return CAPTIONERS[model]


def train_captioner(model: str, data_dir, out_dir, **options):
    """Train the registered `model` on a `coco_captioning` folder into `out_dir`.

    Common keywords: epochs, batch_size, learning_rate, seed=0, device="cpu", resume=False,
    max_train=None, progress=False; others are the model's own options.
    Returns an object with `.best_checkpoint` (Path) and `.history` (dict of lists).
    """
    entry = _entry(model)
    accepted = set(inspect.signature(entry.train).parameters) - {"data_dir", "out_dir"}
    unknown = sorted(set(options) - (accepted - set(entry.options)))
    if unknown:
        raise InvalidInputError(f"the {model} captioner does not take: {', '.join(unknown)}")
    return entry.train(data_dir, out_dir, **entry.options, **options)


def load_captioner(checkpoint_path: str | os.PathLike, device: str = "cpu"):
    """Load any registered captioner's checkpoint -> an object with `.model_name`,
    `.word_to_idx`, `.idx_to_word` and `.sample(features (N, D), max_length=30, beam_size=1)`."""
    path = Path(checkpoint_path)
    if not path.is_file():
        raise DataNotFoundError(
            f"checkpoint {path} does not exist; train one with "
            "`vislab caption train --out DIR` (it writes DIR/best.pt)"
        )
    model = read_checkpoint(path).get("model")
    if not isinstance(model, str) or model not in CAPTIONERS:
        raise CorruptFileError(f"{path} is not a captioner's checkpoint (model {model!r})")
    return CAPTIONERS[model].load(path, device)
