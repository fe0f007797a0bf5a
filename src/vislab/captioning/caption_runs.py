"""What both captioner families share about a run: the fingerprint of its `coco_captioning`
folder and the history files (the loss per minibatch and the validation loss per epoch)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vislab.datasets.coco import ENV_VAR
from vislab.runs import RunFolder, data_fingerprint, write_history

DATA_SUFFIXES = (".h5", ".json", ".txt", ".npz", ".npy")


def coco_fingerprint(data_dir: str | os.PathLike | None, data: dict) -> dict:
    """The folder's name, the sizes and hashes of its data files and the vocabulary's hash
    (`data` is what `load_coco_data` read from it)."""
    folder = Path(data_dir if data_dir is not None else os.environ[ENV_VAR])
    files = sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.suffix in DATA_SUFFIXES and not path.name.startswith(".")
    )
    return data_fingerprint(folder.resolve().name, files, vocabulary=list(data["idx_to_word"]))


def write_caption_history(folder: RunFolder, history: dict, title: str, ylabel: str) -> Path:
    """history.json and loss_curve.png; history: "train_loss" per iteration, "val_loss" per
    epoch (drawn at the end of each epoch's iterations)."""
    train, val = history["train_loss"], history["val_loss"]
    curves = {"training loss (minibatch)": (np.arange(1, len(train) + 1), train)}
    if val:
        x = len(train) / len(val) * np.arange(1, len(val) + 1)
        curves["validation loss (per epoch)"] = (x, val)
    return write_history(folder, history, curves, title, ylabel)
