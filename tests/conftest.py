"""Fixtures every test folder may use: tiny IDX folders, tiny course-layout caption folders.

`build_tiny_coco(out_dir, ...)` writes a folder in the course's `coco_captioning` layout; the
`tiny_coco_dir` fixture is a default one in `tmp_path`: 50 train captions (one per image, so a
model can memorise them), 10 val images with 2 captions each, a 30-word vocabulary, random
float32 features (PCA D=512, raw 1024) and urls that are plain paths of small PNGs beside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vislab.datasets import write_idx
from vislab.datasets.coco import write_coco_data
from vislab.datasets.vocabulary import SPECIAL_TOKENS
from vislab.numpy_nn.blas_threads import blas_threads


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


TINY_WORDS = (
    "a man woman dog cat sitting standing on in the with red blue green table street "
    "grass ball plate of near tree car bus kite"
).split()


def _captions(rng: np.random.Generator, count: int, length: int, vocab_size: int) -> np.ndarray:
    """(count, length) ids: <START>, 2..length-2 random words, <END>, then <NULL> padding."""
    captions = np.zeros((count, length), dtype=np.int32)
    for row in captions:
        num_words = int(rng.integers(2, length - 1))
        row[0] = 1
        row[1 : 1 + num_words] = rng.integers(len(SPECIAL_TOKENS), vocab_size, size=num_words)
        row[1 + num_words] = 2
    return captions


def _write_images(folder: Path, split: str, count: int, rng: np.random.Generator) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    urls = []
    for index in range(count):
        path = folder / f"{split}_{index:03d}.png"
        pixels = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path)
        urls.append(str(path))
    return urls


def build_tiny_coco(
    out_dir: Path,
    *,
    num_train: int = 50,
    num_val_images: int = 10,
    captions_per_val_image: int = 2,
    caption_length: int = 17,
    feature_dim: int = 512,
    raw_dim: int | None = 1024,
    seed: int = 0,
) -> Path:
    """Write a tiny course-layout folder to `out_dir` and return it."""
    rng = np.random.default_rng(seed)
    idx_to_word = list(SPECIAL_TOKENS) + list(TINY_WORDS)
    vocab_size = len(idx_to_word)
    num_val = num_val_images * captions_per_val_image
    features = {
        split: rng.standard_normal((count, feature_dim)).astype(np.float32)
        for split, count in (("train", num_train), ("val", num_val_images))
    }
    raw = {
        split: (
            None if raw_dim is None else rng.standard_normal((count, raw_dim)).astype(np.float32)
        )
        for split, count in (("train", num_train), ("val", num_val_images))
    }
    return write_coco_data(
        out_dir,
        train_captions=_captions(rng, num_train, caption_length, vocab_size),
        train_image_idxs=np.arange(num_train),
        val_captions=_captions(rng, num_val, caption_length, vocab_size),
        val_image_idxs=np.repeat(np.arange(num_val_images), captions_per_val_image),
        train_features=features["train"],
        val_features=features["val"],
        idx_to_word=idx_to_word,
        train_urls=_write_images(out_dir / "images", "train", num_train, rng),
        val_urls=_write_images(out_dir / "images", "val", num_val_images, rng),
        train_features_raw=raw["train"],
        val_features_raw=raw["val"],
    )


@pytest.fixture
def tiny_coco_dir(tmp_path: Path) -> Path:
    """A default tiny course-layout folder (see the module docstring)."""
    return build_tiny_coco(tmp_path / "coco_captioning")


@pytest.fixture
def one_blas_thread():
    """One OpenBLAS thread: the tests' tiny matmuls run ~80x slower with 2 threads on busy cores."""
    with blas_threads(1):
        yield
