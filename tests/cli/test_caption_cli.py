"""`vislab caption train|sample` in-process, and one real subprocess run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vislab.cli.main import main

# numpy on one OpenBLAS thread, as in tests/captioning/ where these tests began.
pytestmark = pytest.mark.usefixtures("one_blas_thread")


def test_train_then_sample_in_process(tiny_coco_dir, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["caption", "train", "--model", "lstm", "--data", str(tiny_coco_dir), "--epochs", "2"]
    options = ["--batch-size", "25", "--max-train", "40", "--blas-threads", "1"]
    assert main([*args, *options, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert str(out / "best.pt") in printed and str(out / "loss_curve.png") in printed
    resumed = [*args[:-1], "3", "--batch-size", "25", "--max-train", "40", "--resume"]
    assert main([*resumed, "--out", str(out)]) == 0  # one more epoch, on top of the first two
    history = json.loads((out / "history.json").read_text())
    assert len(history["val_loss"]) == 3 and len(history["train_loss"]) == 3 * (40 // 25)
    page = tmp_path / "samples.html"
    sample = [
        "caption",
        "sample",
        "--checkpoint",
        str(out / "best.pt"),
        "--data",
        str(tiny_coco_dir),
    ]
    assert main([*sample, "--num", "4", "--beam-size", "2", "--out", str(page)]) == 0
    assert str(page) in capsys.readouterr().out
    assert page.read_text(encoding="utf-8").count("<figure>") == 4


def test_user_errors_exit_1(tiny_coco_dir, tmp_path, capsys):
    argv = ["caption", "sample", "--checkpoint", str(tmp_path / "no.pt"), "--data", "."]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "vislab: error: argument --checkpoint: file not found" in capsys.readouterr().err
    assert main(["caption", "train", "--data", str(tmp_path / "none"), "--out", str(tmp_path)]) == 1
    assert "get_datasets.sh" in capsys.readouterr().err


def test_subprocess_smoke(tiny_coco_dir, tmp_path):
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src), "VISLAB_COCO_DIR": str(tiny_coco_dir)}
    command = [
        sys.executable,
        "-m",
        "vislab",
        "caption",
        "train",
        "--model",
        "rnn",
        "--epochs",
        "1",
    ]
    done = subprocess.run(
        [*command, "--batch-size", "50", "--out", str(tmp_path / "run")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run" / "best.pt").is_file()
