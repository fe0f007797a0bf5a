"""`vislab gan train | sample | eval` in-process on a tiny IDX folder written by the test."""

from __future__ import annotations

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
                 "20", "--data-dir", str(tiny_idx_dir)]) == 0  # fmt: skip
    report = capsys.readouterr().out
    assert "FID (Fashion-MNIST CNN features)" in report and "20 generated vs 32 test" in report


def test_user_errors_are_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("VISLAB_DATA_DIR", raising=False)
    assert main(["gan", "train", "--data", "mnist", "--out", str(tmp_path)]) == 1
    assert "--data mnist needs the MNIST IDX files" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["gan", "sample", "--checkpoint", str(tmp_path / "none.pt")])
    assert exit_info.value.code == 2
    assert "argument --checkpoint: file not found" in capsys.readouterr().err
