"""What every captioner's training run leaves beside its checkpoints: history and a loss plot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from vislab.atomic_files import atomic_savefig, atomic_write_text


def write_history(out: Path, history: dict, title: str, loss_label: str) -> Path:
    """Write out/history.json and out/loss_curve.png; return the PNG's path.

    history: "train_loss" per minibatch and "val_loss" per epoch (the validation points are
    drawn at the end of each epoch's iterations).
    """
    atomic_write_text(out / "history.json", json.dumps(history, indent=1))
    figure = Figure(figsize=(7, 4))
    axes = figure.add_subplot()
    train = history["train_loss"]
    axes.plot(np.arange(1, len(train) + 1), train, lw=0.8, label="training loss (minibatch)")
    epochs = len(history["val_loss"])
    if epochs:
        x = len(train) / epochs * np.arange(1, epochs + 1)
        axes.plot(x, history["val_loss"], "o-", label="validation loss (per epoch)")
    axes.set(xlabel="iteration", ylabel=loss_label, title=title)
    axes.legend()
    return atomic_savefig(figure, out / "loss_curve.png", dpi=100)
