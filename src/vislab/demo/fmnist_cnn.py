"""The demo's first section: the shared Fashion-MNIST CNN, its test accuracy and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure as PlotFigure

from vislab.atomic_files import atomic_savefig
from vislab.backbones.fmnist_cnn import load_fmnist_cnn
from vislab.backbones.fmnist_training import images_to_tensor, predict
from vislab.class_names import FASHION_MNIST_CLASSES
from vislab.datasets.mnist import load_mnist_format
from vislab.demo.budgets import budget_for
from vislab.report import Figure, Section, Table


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[i, j] = how many images of class i were predicted as class j; (C, C) int64."""
    flat = labels.astype(np.int64) * num_classes + predictions.astype(np.int64)
    return np.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def _plot_confusion(counts: np.ndarray, path: Path) -> None:
    fig = PlotFigure(figsize=(7, 6))
    ax = fig.subplots()
    ax.imshow(counts, cmap="Blues")
    for i, j in np.ndindex(counts.shape):
        color = "white" if counts[i, j] > counts.max() / 2 else "black"
        ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7, color=color)
    ticks = range(len(FASHION_MNIST_CLASSES))
    ax.set_xticks(ticks, FASHION_MNIST_CLASSES, rotation=45, ha="right")
    ax.set_yticks(ticks, FASHION_MNIST_CLASSES)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=110)


def _plot_samples(images: np.ndarray, labels: np.ndarray, predictions: np.ndarray, path: Path):
    """Four test images per class, each titled with its prediction (red when wrong)."""
    fig = PlotFigure(figsize=(12, 5.6))
    axes = fig.subplots(4, 10)
    for column, name in enumerate(FASHION_MNIST_CLASSES):
        indices = np.flatnonzero(labels == column)[:4]
        for row, index in enumerate(indices):
            ax = axes[row, column]
            ax.imshow(images[index], cmap="gray", vmin=0, vmax=255)
            ax.axis("off")
            wrong = predictions[index] != labels[index]
            ax.set_title(
                FASHION_MNIST_CLASSES[predictions[index]],
                fontsize=7,
                color="red" if wrong else "black",
            )
        axes[0, column].text(14, -12, name, ha="center", fontsize=9, fontweight="bold")
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=110)


def run_section(out_dir: Path, budget: str = "quick", fresh: bool = False) -> list[Section]:
    """Evaluate the shipped CNN on the 10,000 test images; write the figures into out_dir."""
    plan = budget_for(budget).fmnist_cnn
    out_dir.mkdir(parents=True, exist_ok=True)
    images, labels = load_mnist_format(split="test")
    images, labels = images[: plan.test_images], labels[: plan.test_images]
    model = load_fmnist_cnn()
    with torch.inference_mode():
        predictions = predict(model, images_to_tensor(images)).numpy()
    accuracy = float((predictions == labels).mean())
    counts = confusion_matrix(labels, predictions, len(FASHION_MNIST_CLASSES))
    _plot_confusion(counts, out_dir / "confusion_matrix.png")
    _plot_samples(images, labels, predictions, out_dir / "test_samples.png")
    per_class = counts.diagonal() / np.maximum(counts.sum(axis=1), 1)
    table = Table(
        caption=f"Test accuracy on {len(labels):,} Fashion-MNIST test images",
        header=["class", "accuracy", "images"],
        rows=[["all classes", accuracy, len(labels)]]
        + [
            [name, float(per_class[c]), int(counts[c].sum())]
            for c, name in enumerate(FASHION_MNIST_CLASSES)
        ],
    )
    return [
        Section(
            title="The shared Fashion-MNIST CNN",
            intro="A small CNN trained on the 60,000 Fashion-MNIST training images; its weights "
            "ship with vislab. The captioning scene features, the explain task's small model and "
            "the GAN's FID all use this one network.",
            tables=[table],
            figures=[
                Figure(
                    out_dir / "confusion_matrix.png",
                    "Confusion matrix on the test images: rows are true classes, columns "
                    "predictions. Shirts, t-shirts, pullovers and coats are the usual confusions.",
                ),
                Figure(
                    out_dir / "test_samples.png",
                    "Real Fashion-MNIST test images, four per class (column header), each titled "
                    "with the CNN's prediction; red titles are mistakes.",
                ),
            ],
        )
    ]
