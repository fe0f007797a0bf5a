"""`vislab caption train` and `vislab gan train` stopped by SIGTERM (as a cluster does before
it takes a machine back): a checkpoint, one sentence, exit code 130, then --resume finishes.
Run as users call them: a child process in a temporary folder, relative paths."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from tests.conftest import build_tiny_coco, make_idx_dir
from tests.run_child import finish, run_child

from vislab.checkpoints import read_checkpoint

COMMANDS = {
    "caption": ["caption", "train", "--model", "rnn", "--data", "coco", "--epochs", "2",
                "--batch-size", "10", "--max-train", "30", "--blas-threads", "1"],
    "gan": ["gan", "train", "--model", "fc", "--data", "mnist", "--data-dir", "idx",
            "--epochs", "2", "--batch-size", "16", "--num-train", "64", "--show-every", "100"],
}  # fmt: skip


@pytest.mark.slow  # two child processes each (~15 s idle, minutes on a busy machine)
@pytest.mark.parametrize("task", ["caption", "gan"])
def test_sigterm_saves_says_so_and_exits_130_then_resume_finishes(task, tmp_path):
    build_tiny_coco(tmp_path / "coco") if task == "caption" else make_idx_dir(tmp_path / "idx")
    command = [*COMMANDS[task], "--out", "run"]
    child = run_child("cli", json.dumps(command), Path("run"), "step:2", cwd=tmp_path)
    marker = tmp_path / "run.paused"
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert child.poll() is None, (tmp_path / "run.log").read_text()
        assert time.monotonic() < deadline, "the child never reached step 2"
        time.sleep(0.05)
    child.send_signal(signal.SIGTERM)
    marker.unlink()  # the child goes on: the step ends, the guard sees the signal
    assert child.wait(240) == 130
    log = (tmp_path / "run.log").read_text()
    assert "vislab: stopped by SIGTERM after iteration 2; the run is saved in run/last.pt: " \
           "continue it with --resume" in log and "Traceback" not in log  # fmt: skip
    assert (
        read_checkpoint(tmp_path / "run" / "last.pt")["iteration" if task == "gan" else "step"] == 2
    )
    finish(
        run_child("cli", json.dumps([*command, "--resume"]), Path("run"), cwd=tmp_path),
        tmp_path / "run",
    )
    assert read_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == 2
