"""Pictures of an evaluation: the memorisation grid, the distance histogram, the class balance."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from vislab.atomic_files import atomic_savefig
from vislab.datasets import FASHION_MNIST_CLASSES
from vislab.gan.evaluation import FEATURE_SPACE, Memorisation
from vislab.gan.images import show_images


def memorisation_grid(
    samples: torch.Tensor,
    train: torch.Tensor,
    memorisation: Memorisation,
    path: str | os.PathLike,
    rows: int = 8,
) -> Path:
    """The `rows` samples nearest to the training set, each followed by its nearest train images.

    samples: (M, 1, 28, 28) and train: (N, 1, 28, 28) pixels in [0, 1]; `memorisation`
    describes the first len(memorisation.sample_distances) samples. Row r: sample, a blank
    cell, then its k nearest training images in the CNN's feature space, nearest first.
    """
    order = memorisation.sample_distances.argsort()[:rows]  # the most suspicious first
    blank = torch.ones(1, 1, 28, 28)
    cells = [
        torch.cat([samples[i : i + 1], blank, train[memorisation.neighbours[i]]]) for i in order
    ]  # each (2 + k, 1, 28, 28)
    columns = 2 + memorisation.neighbours.shape[1]
    return show_images(torch.cat(cells), path, value_range=(0.0, 1.0), scale=2, columns=columns)


def distance_histogram(memorisation: Memorisation, path: str | os.PathLike) -> Path:
    """Histogram of nearest-train distances: generated samples against real test images."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.5), dpi=100)
    axes = figure.add_subplot()
    samples = memorisation.sample_distances.numpy()
    test = memorisation.test_distances.numpy()
    bins = np.linspace(0, max(samples.max(), test.max()), 50)
    axes.hist(test, bins=bins, alpha=0.6, density=True, label=f"real test images ({len(test)})")
    axes.hist(samples, bins=bins, alpha=0.6, density=True, label=f"samples ({len(samples)})")
    axes.set_xlabel(f"distance to the nearest training image ({FEATURE_SPACE})")
    axes.set_ylabel("density")
    axes.set_title("Memorisation check: nearest training image, samples vs test")
    axes.legend()
    figure.tight_layout()
    return atomic_savefig(figure, path)


def class_balance_chart(class_histogram: list[int], path: str | os.PathLike) -> Path:
    """Bar chart of the samples' classes as the Fashion-MNIST CNN predicts them, vs 10% each."""
    from matplotlib.figure import Figure

    counts = np.asarray(class_histogram, dtype=float)
    figure = Figure(figsize=(6, 3.5), dpi=100)
    axes = figure.add_subplot()
    axes.bar(range(len(counts)), 100 * counts / max(counts.sum(), 1), color="tab:blue")
    axes.axhline(100 / len(counts), color="black", linestyle="--", linewidth=1,
                 label="Fashion-MNIST: 10% each")  # fmt: skip
    axes.set_xticks(range(len(counts)), FASHION_MNIST_CLASSES, rotation=45, ha="right")
    axes.set_ylabel("% of samples")
    axes.set_title(f"Class balance of {int(counts.sum())} samples (CNN's predicted classes)")
    axes.legend()
    figure.tight_layout()
    return atomic_savefig(figure, path)
