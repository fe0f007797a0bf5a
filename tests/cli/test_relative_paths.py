"""Every command that writes files, called as people type paths: relative, with spaces, with
`~`, into folders that do not exist yet, from a working directory that is not the repository."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.conftest import make_idx_dir

from vislab.cli.main import main


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A fresh working directory with tiny Fashion-MNIST files in `fashion data/`; HOME inside."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VISLAB_DATA_DIR", raising=False)
    make_idx_dir(tmp_path / "fashion data", num_train=48, num_test=24)
    return tmp_path


def test_data_commands(workdir, capsys):
    argv = ["data", "train-fmnist-cnn", "--data-dir", "fashion data", "--epochs", "1"]
    assert main([*argv, "--max-train", "48", "--out", "~/my weights/cnn.safetensors"]) == 0
    assert (workdir / "home" / "my weights" / "cnn.safetensors").is_file()
    argv = ["data", "build-scenes", "--fmnist-dir", "fashion data", "--num-train", "30"]
    assert main([*argv, "--num-val", "6", "--out", "sets/my scenes"]) == 0
    assert (workdir / "sets" / "my scenes" / "coco2014_vocab.json").is_file()


def test_caption_train_sample_eval(workdir, capsys):
    build = ["data", "build-scenes", "--fmnist-dir", "fashion data", "--num-train", "30"]
    assert main([*build, "--num-val", "6", "--out", "my scenes"]) == 0
    train = ["caption", "train", "--model", "rnn", "--data", "my scenes", "--epochs", "1"]
    assert main([*train, "--batch-size", "10", "--out", "runs/rnn one"]) == 0
    assert (workdir / "runs" / "rnn one" / "best.pt").is_file()
    sample = ["caption", "sample", "--checkpoint", "runs/rnn one/best.pt", "--data", "my scenes"]
    assert main([*sample, "--num", "2", "--out", "pages/val samples.html"]) == 0
    assert (workdir / "pages" / "val samples.html").is_file()
    scores = ["caption", "eval", "--checkpoint", "runs/rnn one/best.pt", "--data", "my scenes"]
    assert main([*scores, "--out", "~/scores/rnn.json"]) == 0
    assert (workdir / "home" / "scores" / "rnn.json").is_file()


def test_gan_train_and_sample(workdir, capsys):
    train = ["gan", "train", "--model", "fc", "--data", "mnist", "--data-dir", "fashion data"]
    options = ["--epochs", "1", "--batch-size", "16", "--num-train", "48", "--show-every", "2"]
    assert main([*train, *options, "--out", "runs/gan one"]) == 0
    printed = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    checkpoint = printed["checkpoint"]  # printed as given: relative to the working directory
    assert checkpoint.startswith("runs/gan one/") and (workdir / checkpoint).is_file()
    assert main(["gan", "sample", "--checkpoint", checkpoint, "--out", "grids/a grid.png"]) == 0
    assert (workdir / "grids" / "a grid.png").is_file()


def test_explain_commands(workdir, capsys):
    photo = workdir / "my photos" / "pattern one.jpg"
    photo.parent.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), np.uint8)).save(photo)
    model = ["--model", "fmnist_cnn"]
    argv = ["explain", "saliency", "my photos/pattern one.jpg", *model, "--out", "figures/new one"]
    assert main(argv) == 0
    assert (workdir / "figures" / "new one" / "saliency_vanilla_fmnist_cnn.png").is_file()
    argv = ["explain", "fool", "my photos/pattern one.jpg", "--target", "trouser", *model]
    assert main([*argv, "--out", "~/fooling"]) == 0
    assert list((workdir / "home" / "fooling").glob("fooling_*.png"))
    argv = ["explain", "class", "sneaker", "--iterations", "3", *model, "--out", "class viz"]
    assert main(argv) == 0
    assert (workdir / "class viz" / "class_7_fmnist_cnn.png").is_file()
