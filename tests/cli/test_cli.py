"""The CLI front end: help, info, and errors as one sentence with a non-zero exit code."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from vislab.backbones.fmnist_cnn import load_fmnist_cnn
from vislab.cli.main import main


def test_top_level_help_lists_every_group(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for group in ("caption", "explain", "gan", "data", "demo", "info"):
        assert group in out


@pytest.mark.parametrize("group", ["caption", "explain", "gan", "data"])
def test_group_help(group, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([group, "--help"])
    assert exit_info.value.code == 0
    assert "COMMAND" in capsys.readouterr().out


def test_group_without_command_prints_help(capsys):
    assert main(["gan"]) == 2
    assert "usage: vislab gan" in capsys.readouterr().out


def test_info_reports_versions_and_data(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "torch threads" in out and "Fashion-MNIST" in out and "numpy" in out


def test_missing_data_is_one_sentence_on_stderr(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "train-fmnist-cnn", "--data-dir", str(tmp_path / "absent")])
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.err.startswith("vislab: error: argument --data-dir: folder not found")
    assert "Traceback" not in captured.err


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["paint"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_python_dash_m_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vislab", "data", "train-fmnist-cnn", "--data-dir", "/nonexistent"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "vislab: error: argument --data-dir: folder not found: /nonexistent "
        "(see `vislab data train-fmnist-cnn --help`)"
    )


def test_train_fmnist_cnn_on_a_tiny_folder(tiny_idx_dir, tmp_path, capsys):
    out = tmp_path / "cnn.safetensors"
    args = ["data", "train-fmnist-cnn", "--data-dir", str(tiny_idx_dir), "--epochs", "1"]
    assert main([*args, "--out", str(out)]) == 0
    assert "epoch 1: test accuracy" in capsys.readouterr().out
    # The file is the trained network: it loads, and differs from the shipped weights.
    trained, shipped = load_fmnist_cnn(out), load_fmnist_cnn()
    assert any(
        not torch.equal(a, b)
        for a, b in zip(trained.state_dict().values(), shipped.state_dict().values(), strict=True)
    )
