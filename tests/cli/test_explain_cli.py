"""`vislab explain ...` end to end into tmp_path (mostly the small Fashion-MNIST CNN)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vislab.cli.main import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two threads spin against each other on a loaded 2-core box
    yield
    torch.set_num_threads(threads)


def _png(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_saliency_on_photos_and_files(tmp_path, capsys):
    photo = tmp_path / "pattern.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 70, 3), np.uint8)).save(photo)
    argv = ["explain", "saliency", "coffee", str(photo), "--model", "fmnist_cnn"]
    assert main([*argv, "--method", "smoothgrad", "--out", str(tmp_path)]) == 0
    out = Path(capsys.readouterr().out.strip())
    assert out == tmp_path / "saliency_smoothgrad_fmnist_cnn.png" and _png(out)[0] > 300
    assert main(["explain", "saliency", "chelsea", "--out", str(tmp_path)]) == 0
    assert _png(tmp_path / "saliency_vanilla_efficientnet_lite0.png")


def test_fool_and_class(tmp_path, capsys):
    argv = ["explain", "fool", "coffee", "--target", "trouser", "--model", "fmnist_cnn"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "-> trouser" in printed and _png(tmp_path / "fooling_coffee_1_fmnist_cnn.png")
    argv = ["explain", "class", "Sneaker", "--model", "fmnist_cnn", "--iterations", "20"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    assert _png(tmp_path / "class_7_fmnist_cnn.png")


def test_bad_inputs_give_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    assert main(["explain", "saliency", str(bad), "--model", "fmnist_cnn"]) == 1
    assert "not a readable image" in capsys.readouterr().err
    assert main(["explain", "class", "unicorn", "--model", "fmnist_cnn"]) == 1
    assert "unknown class name 'unicorn'" in capsys.readouterr().err
    argv = ["explain", "fool", "--target", "stingray", "--model", "squeezenet1_1"]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--weights", str(tmp_path / "none.pth")])
    assert exit_info.value.code == 2
    assert "argument --weights: file not found" in capsys.readouterr().err


def test_python_dash_m_smoke(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    argv = ["class", "bag", "--model", "fmnist_cnn", "--iterations", "5", "--out", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "vislab", "explain", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("class_8_fmnist_cnn.png")
