"""Retraining the Fashion-MNIST CNN writes a file of your own, never the shipped weights."""

from __future__ import annotations

import pytest

from vislab.backbones.fmnist_cnn import FashionMNISTCNN, load_fmnist_cnn, shipped_weights_path
from vislab.backbones.fmnist_training import save_fmnist_cnn, train_fmnist_cnn
from vislab.cli.main import main
from vislab.errors import InvalidInputError


def test_the_shipped_weights_are_never_overwritten():
    before = shipped_weights_path().read_bytes()
    with pytest.raises(InvalidInputError, match="shipped inside the package"):
        save_fmnist_cnn(FashionMNISTCNN(), shipped_weights_path())
    assert shipped_weights_path().read_bytes() == before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"learning_rate": float("nan")}, "learning_rate"),
    ],
)
def test_bad_training_options_are_refused_before_training(options, message):
    with pytest.raises(InvalidInputError, match=message):
        train_fmnist_cnn(data_dir="absent", **options)


def test_cli_writes_out_in_the_working_folder_and_it_loads(tiny_idx_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = shipped_weights_path().read_bytes()
    argv = ["data", "train-fmnist-cnn", "--data-dir", str(tiny_idx_dir), "--epochs", "1"]
    assert main([*argv, "--max-train", "32"]) == 0
    assert shipped_weights_path().read_bytes() == before
    retrained = load_fmnist_cnn(weights="fmnist_cnn.safetensors")
    shipped = load_fmnist_cnn()
    assert any(
        (a != b).any()
        for a, b in zip(retrained.state_dict().values(), shipped.state_dict().values(), strict=True)
    )
