"""Fixtures for the GAN tests: a tiny MNIST-format folder written by the test itself."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.datasets import write_idx


def write_tiny_mnist(folder, num_train: int = 64, num_test: int = 32, seed: int = 0):
    """Blobby 28x28 uint8 images with labels 0..9, in the four IDX files of MNIST."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", num_train), ("t10k", num_test)):
        labels = (np.arange(count) % 10).astype(np.uint8)
        images = np.zeros((count, 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            top, left = rng.integers(2, 12, size=2)
            images[i, top : top + 10 + label, left : left + 12] = 200 + rng.integers(0, 55)
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return folder


@pytest.fixture
def tiny_mnist_dir(tmp_path):
    return write_tiny_mnist(tmp_path / "tiny-mnist")
