"""`vislab caption train|sample|eval` with `--model transformer`, in-process."""

from __future__ import annotations

import json

import pytest
import torch

from vislab.captioning import load_captioner
from vislab.cli.main import main

# numpy on one OpenBLAS thread, as in tests/captioning/ where these tests began.
pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: on a shared 2-core machine two threads mostly wait for each other
    (the overfit run took 346 s with 2 threads and 46 s with 1 at a load average of 4)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_train_resume_sample_and_eval_a_transformer(tiny_coco_dir, tmp_path, capsys):
    out = tmp_path / "run"
    train = ["caption", "train", "--model", "transformer", "--data", str(tiny_coco_dir)]
    train += ["--batch-size", "25", "--out", str(out)]
    assert main([*train, "--epochs", "1"]) == 0
    assert str(out / "best.pt") in capsys.readouterr().out
    assert main([*train, "--epochs", "2", "--resume"]) == 0
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["epoch"] == 2 and len(state["history"]["train_loss"]) == 4

    captioner = load_captioner(out / "best.pt")
    assert captioner.model_name == "transformer"

    page = tmp_path / "samples.html"
    sample = ["caption", "sample", "--checkpoint", str(out / "best.pt")]
    sample += ["--data", str(tiny_coco_dir), "--num", "3", "--beam-size", "2", "--out", str(page)]
    assert main(sample) == 0
    assert page.read_text(encoding="utf-8").count("<figure>") == 3

    scores = tmp_path / "scores.json"
    evaluate = ["caption", "eval", "--checkpoint", str(out / "best.pt")]
    evaluate += ["--data", str(tiny_coco_dir), "--max-images", "4", "--out", str(scores)]
    assert main(evaluate) == 0
    assert scores.is_file() and json.loads(scores.read_text())


def test_cuda_without_cuda_and_rnn_only_options_are_one_line_errors(
    tiny_coco_dir, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = ["caption", "train", "--model", "transformer", "--data", str(tiny_coco_dir)]
    with pytest.raises(SystemExit) as exit_info:  # refused where it is parsed
        main([*args, "--device", "cuda", "--out", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    assert "argument --device: cuda was asked for but CUDA is not available" in (
        capsys.readouterr().err
    )
    assert main([*args, "--lr-decay", "0.9", "--out", str(tmp_path / "run")]) == 1
    assert "does not take: lr_decay" in capsys.readouterr().err
