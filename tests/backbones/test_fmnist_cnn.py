"""The shipped Fashion-MNIST CNN: size, interface, and accuracy on the real test split."""

from __future__ import annotations

import pytest
import torch

from vislab.backbones import FEATURE_DIM, load_fmnist_cnn
from vislab.backbones.fmnist_cnn import FashionMNISTCNN, shipped_weights_path
from vislab.backbones.fmnist_training import images_to_tensor, predict, save_fmnist_cnn
from vislab.datasets import load_mnist_format
from vislab.errors import CorruptFileError, DataNotFoundError


def test_shipped_weights_are_small():
    assert shipped_weights_path().stat().st_size <= 4 * 2**20


def test_interface():
    model = load_fmnist_cnn()
    assert not model.training
    x = torch.rand(3, 1, 28, 28)
    assert model(x).shape == (3, 10)
    assert model.features(x).shape == (3, FEATURE_DIM)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        model(torch.rand(3, 28, 28))


def test_test_accuracy_at_least_91_percent():
    images, labels = load_mnist_format(split="test")
    predictions = predict(load_fmnist_cnn(), images_to_tensor(images))
    accuracy = (predictions == torch.from_numpy(labels)).float().mean().item()
    assert accuracy >= 0.91, f"test accuracy {accuracy:.4f}"


def test_save_load_round_trip(tmp_path):
    model = FashionMNISTCNN().eval()
    path = save_fmnist_cnn(model, tmp_path / "w.safetensors")
    loaded = load_fmnist_cnn(path)
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(loaded(x), model(x))


def test_missing_and_corrupt_weights(tmp_path):
    with pytest.raises(DataNotFoundError, match="train-fmnist-cnn"):
        load_fmnist_cnn(tmp_path / "absent.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not safetensors")
    with pytest.raises(CorruptFileError, match="bad.safetensors"):
        load_fmnist_cnn(bad)
