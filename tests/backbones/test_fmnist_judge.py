"""The independent Fashion-MNIST judge: small, another architecture, trained, loadable."""

from __future__ import annotations

import pytest
import torch

from vislab.backbones import load_backbone
from vislab.backbones.fmnist_judge import shipped_judge_path
from vislab.errors import CorruptFileError, DataNotFoundError
from vislab.explain.studies import fmnist_test_images


def test_judge_is_small_and_not_the_cnn():
    judge, cnn = load_backbone("fmnist_judge"), load_backbone("fmnist_cnn")
    assert shipped_judge_path().stat().st_size <= 1_000_000
    assert sum(p.numel() for p in judge.parameters()) == 114_314
    judge_layers = {type(m).__name__ for m in judge.modules()}
    assert "BatchNorm2d" in {type(m).__name__ for m in cnn.modules()}
    assert "BatchNorm2d" not in judge_layers and "AvgPool2d" in judge_layers
    assert judge.class_names == cnn.class_names and judge.input_size == 28


def test_judge_classifies_fashion_mnist():
    # Measured on all 10,000 test images after 3 epochs: 87.9%.
    X, y = fmnist_test_images(500)
    with torch.no_grad():
        accuracy = (load_backbone("fmnist_judge")(X).argmax(1) == y).float().mean()
    assert accuracy >= 0.85


def test_bad_judge_weights_are_clear_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="train-fmnist-judge"):
        load_backbone("fmnist_judge", weights=tmp_path / "missing.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(CorruptFileError, match="bad.safetensors"):
        load_backbone("fmnist_judge", weights=tmp_path / "bad.safetensors")
