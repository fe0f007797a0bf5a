"""Fixtures every test folder may use: the shared reference data and tiny IDX folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vislab.datasets import write_idx

REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """The course's oracle data beside the repository; CI always has it, so fail loudly."""
    if not SHARED_REFERENCE.is_dir():
        pytest.fail(f"{SHARED_REFERENCE} is missing: clone the repo beside ../shared/")
    return SHARED_REFERENCE


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
