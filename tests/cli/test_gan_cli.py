"""`vislab gan train | sample | eval` in-process on a tiny IDX folder written by the test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from vislab.cli.main import main


def test_train_sample_eval_on_a_tiny_folder(tiny_idx_dir, tmp_path, capsys):
    out = tmp_path / "run"
    train = ["gan", "train", "--model", "fc", "--loss", "hinge", "--data", "mnist",
             "--data-dir", str(tiny_idx_dir), "--epochs", "1", "--batch-size", "16",
             "--num-train", "64", "--show-every", "2", "--out", str(out)]  # fmt: skip
    assert main(train) == 0
    printed = capsys.readouterr().out
    assert f"checkpoint: {out / 'last.pt'}" in printed
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        "final.png", "iter_000000.png", "iter_000002.png"
    ]  # fmt: skip
    assert main([*train, "--epochs", "2", "--resume"]) == 0  # the last --epochs wins
    assert "iter_000004.png" in {p.name for p in (out / "samples").iterdir()}
    capsys.readouterr()

    grid = tmp_path / "grid.png"
    assert main(["gan", "sample", "--checkpoint", str(out / "last.pt"), "--num", "9",
                 "--interpolate", "--out", str(grid)]) == 0  # fmt: skip
    assert capsys.readouterr().out.split() == [str(grid), str(tmp_path / "grid_interpolation.png")]
    with Image.open(tmp_path / "grid_interpolation.png") as strip:
        assert strip.size[0] > 2 * strip.size[1]  # 10 columns x 4 rows

    assert main(["gan", "eval", "--checkpoint", str(out / "last.pt"), "--num-samples",
                 "20", "--num-bootstrap", "5", "--data-dir", str(tiny_idx_dir)]) == 0  # fmt: skip
    report = capsys.readouterr().out
    assert "FID (Fashion-MNIST CNN features), 95% bootstrap" in report
    # all 64 training images were used, so the 32 test images are halved: 16 + 16 held out
    assert "20 generated vs 16 test" in report and "16 held-out real vs 16 test" in report
    assert "samples (raw weights)" in report and "precision (k=5)" in report
    summary = json.loads((out / "eval_raw" / "evaluation.json").read_text())
    assert summary["weights"] == "raw" and summary["samples"]["num_images"] == 20


def test_strong_recipe_keeps_an_ema_that_sample_and_eval_use(
    tiny_idx_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    data = ["--data", "mnist", "--data-dir", str(tiny_idx_dir)]
    assert main(["gan", "train", "--recipe", "strong", *data, "--epochs", "1", "--batch-size",
                 "16", "--num-train", "48", "--out", "strong run"]) == 0  # fmt: skip
    config = json.loads(Path("strong run/run.json").read_text())["options"]
    assert (config["model"], config["loss"], config["spectral_norm"], config["ema_decay"]) == (
        "dc",
        "hinge",
        True,
        0.999,
    )
    capsys.readouterr()
    evaluate = ["gan", "eval", "--checkpoint", "strong run/last.pt", *data[2:]]
    assert main([*evaluate, "--num-samples", "16", "--num-bootstrap", "5", "--out", "scores"]) == 0
    report = capsys.readouterr().out
    assert "samples (ema weights)" in report and "16 held-out real vs 32 test" in report
    assert json.loads(Path("scores/evaluation.json").read_text())["weights"] == "ema"
    for name in ("memorisation.png", "memorisation_distances.png", "class_balance.png"):
        assert Path("scores", name).is_file()
    assert main(["gan", "sample", "--checkpoint", "strong run/last.pt", "--weights", "raw",
                 "--num", "4", "--out", "raw.png"]) == 0  # fmt: skip
    assert Path("raw.png").is_file()


def test_a_run_without_ema_refuses_ema_weights(tiny_idx_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["gan", "train", "--data", "mnist", "--data-dir", str(tiny_idx_dir),
                 "--epochs", "1", "--batch-size", "32", "--num-train", "32",
                 "--out", "plain"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["gan", "sample", "--checkpoint", "plain/last.pt", "--weights", "ema"]) == 1
    assert "holds no EMA generator" in capsys.readouterr().err


def test_user_errors_are_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("VISLAB_DATA_DIR", raising=False)
    assert main(["gan", "train", "--data", "mnist", "--out", str(tmp_path)]) == 1
    assert "--data mnist needs the MNIST IDX files" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["gan", "sample", "--checkpoint", str(tmp_path / "none.pt")])
    assert exit_info.value.code == 2
    assert "argument --checkpoint: file not found" in capsys.readouterr().err
