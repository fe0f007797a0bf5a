"""Fixtures every test folder may use: tiny IDX folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vislab.datasets import write_idx


def make_idx_dir(folder: Path, num_train: int = 64, num_test: int = 32, seed: int = 0) -> Path:
    """Write the four MNIST-format files (gzip) with random images and labels 0..9."""
    rng = np.random.default_rng(seed)
    for prefix, count in (("train", num_train), ("t10k", num_test)):
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder


@pytest.fixture
def tiny_idx_dir(tmp_path: Path) -> Path:
    """A folder of tiny MNIST-format files (64 train, 32 test images)."""
    return make_idx_dir(tmp_path / "idx")
