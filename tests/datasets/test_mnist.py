"""MNIST-format loading: discovery order, validation, and the real Fashion-MNIST files."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.datasets import load_mnist_format, write_idx
from vislab.datasets.mnist import DEBIAN_FOLDER, find_mnist_dir
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError


def test_loads_a_folder(tiny_idx_dir):
    images, labels = load_mnist_format(tiny_idx_dir, "train")
    assert images.shape == (64, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (64,) and labels.dtype == np.int64
    test_images, _ = load_mnist_format(tiny_idx_dir, "test")
    assert test_images.shape == (32, 28, 28)


def test_raw_files_work_too(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([1, 2], np.uint8))
    images, labels = load_mnist_format(tmp_path, "test")
    assert images.shape == (2, 28, 28) and labels.tolist() == [1, 2]


def test_explicit_dir_beats_environment(tiny_idx_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("VISLAB_DATA_DIR", str(tmp_path / "elsewhere"))
    assert find_mnist_dir(tiny_idx_dir) == tiny_idx_dir


def test_environment_variable(tiny_idx_dir, monkeypatch):
    monkeypatch.setenv("VISLAB_DATA_DIR", str(tiny_idx_dir))
    assert find_mnist_dir() == tiny_idx_dir
    assert load_mnist_format(split="test")[0].shape == (32, 28, 28)


def test_missing_files_name_the_file_and_the_package(tmp_path):
    with pytest.raises(DataNotFoundError, match="train-images-idx3-ubyte.*dataset-fashion-mnist"):
        load_mnist_format(tmp_path, "train")


def test_missing_folder(tmp_path):
    with pytest.raises(DataNotFoundError, match="no-such-folder"):
        load_mnist_format(tmp_path / "no-such-folder")


def test_unknown_split(tiny_idx_dir):
    with pytest.raises(InvalidInputError, match="validation"):
        load_mnist_format(tiny_idx_dir, "validation")


def test_label_count_must_match(tiny_idx_dir):
    write_idx(tiny_idx_dir / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(CorruptFileError, match="labels do not match"):
        load_mnist_format(tiny_idx_dir, "train")


def test_labels_must_be_digits(tiny_idx_dir):
    write_idx(tiny_idx_dir / "t10k-labels-idx1-ubyte.gz", np.full(32, 12, np.uint8))
    with pytest.raises(CorruptFileError, match="label 12"):
        load_mnist_format(tiny_idx_dir, "test")


@pytest.mark.parametrize(
    "labels", [np.full(2, -1, np.int8), np.array([2.7, 1.0], np.float32)], ids=["int8", "float"]
)
def test_labels_must_be_unsigned_bytes(tmp_path, labels):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)
    with pytest.raises(CorruptFileError, match="labels must be unsigned bytes"):
        load_mnist_format(tmp_path, "test")


def test_a_split_without_images_is_refused(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((0, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(0, np.uint8))
    with pytest.raises(CorruptFileError, match="holds no images"):
        load_mnist_format(tmp_path, "test")


def test_real_fashion_mnist_from_debian(monkeypatch):
    monkeypatch.delenv("VISLAB_DATA_DIR", raising=False)
    if not DEBIAN_FOLDER.is_dir():
        pytest.fail("Debian's dataset-fashion-mnist is missing: run `make setup` as root")
    images, labels = load_mnist_format(split="test")  # verified against published checksums
    assert images.shape == (10000, 28, 28)
    assert np.bincount(labels).tolist() == [1000] * 10
    assert labels[:5].tolist() == [9, 2, 1, 1, 6]


def test_images_of_the_wrong_size_are_one_sentence(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 32, 32), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([1, 2], np.uint8))
    with pytest.raises(
        CorruptFileError, match="holds 32x32 images; MNIST-format data sets are 28x28"
    ):
        load_mnist_format(tmp_path, "train")
