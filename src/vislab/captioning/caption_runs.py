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


class CaptionHistory:
    """What both captioning solvers keep about where a run stands, written once: `epoch`,
    `step` (steps done in the current epoch), `loss_history` (per iteration),
    `epoch_loss_history` and `val_loss_history` (per epoch) and `best_val_loss`."""

    def _reset_history(self) -> None:
        self.epoch = 0
        self.step = 0
        self.loss_history: list[float] = []
        self.epoch_loss_history: list[float] = []
        self.val_loss_history: list[float] = []
        self.best_val_loss = float("inf")

    @property
    def history(self) -> dict[str, list[float]]:
        return {
            "train_loss": list(self.loss_history),
            "epoch_train_loss": list(self.epoch_loss_history),
            "val_loss": list(self.val_loss_history),
        }

    def _history_state(self) -> dict:
        """The checkpoint's part: position, histories and the best validation loss."""
        return {
            "epoch": self.epoch,
            "step": self.step,
            "history": self.history,
            "best_val_loss": float(self.best_val_loss),
        }

    def _load_history(self, state: dict) -> None:
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.loss_history = [float(v) for v in state["history"]["train_loss"]]
        self.epoch_loss_history = [float(v) for v in state["history"]["epoch_train_loss"]]
        self.val_loss_history = [float(v) for v in state["history"]["val_loss"]]
        self.best_val_loss = float(state["best_val_loss"])
