"""`vislab explain attribute|sanity|robustness|judge` from a temporary folder, relative paths."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from vislab.cli.main import main


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _png(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_attribute_and_sanity_write_png_and_html(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["explain", "attribute", "coffee", "--model", "fmnist_cnn", "--method", "occlusion"]
    assert main([*argv, "--out", "out"]) == 0
    assert _png(Path("out/attribution_occlusion_fmnist_cnn.png"))
    argv = ["explain", "sanity", "--num", "4", "--methods", "saliency", "gradcam"]
    assert main([*argv, "--samples", "1", "--out", "out"]) == 0
    page = Path("out/sanity_fmnist_cnn.html").read_text(encoding="utf-8")
    assert "edge detector (control)" in page and "deletion AUC" in page
    assert _png(Path("out/sanity.png"))


@pytest.mark.slow
def test_robustness_and_judge_write_png_and_html(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["explain", "robustness", "--num", "20", "--epsilons", "2", "16"]
    assert main([*argv, "--iterations", "2", "--restarts", "1", "--out", "out"]) == 0
    assert "Untargeted" in Path("out/robustness_fmnist_cnn.html").read_text(encoding="utf-8")
    argv = ["explain", "judge", "Sneaker", "trouser", "--course-iterations", "3"]
    assert main([*argv, "--fourier-iterations", "3", "--out", "out"]) == 0
    assert _png(Path("out/judged_fmnist_cnn_seed0.png"))


def test_bad_options_are_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["explain", "robustness", "--num", "2", "--epsilons", "8", "2"]) != 0
    assert "--epsilons must increase" in capsys.readouterr().err
    assert main(["explain", "sanity", "--model", "efficientnet_lite0", "--num", "30"]) != 0
    assert "25 ImageNet images" in capsys.readouterr().err
