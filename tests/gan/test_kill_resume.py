"""SIGKILL at three moments, then resume: the DCGAN ends with the same checkpoint, bit for bit,
as a run that was never interrupted (tests/run_child.py)."""

from __future__ import annotations

import pytest
from tests.run_child import finish, kill_at, run_child, same_state

from vislab.checkpoints import read_checkpoint

# 32 images in batches of 8: 4 steps an epoch, 2 epochs, last.pt every 2 steps and epoch.
MOMENTS = (
    "step:3",  # mid-epoch 1, one step after the checkpoint at step 2
    "replace:last.pt:2",  # inside the write of this process's second last.pt, before the rename
    "replace:history.json:1",  # at an epoch's end, after last.pt, inside the history write
)


@pytest.mark.slow  # five child processes (~20 s idle, minutes on a busy machine)
def test_killed_three_times_and_resumed_equals_the_uninterrupted_run(tmp_path):
    reference = run_child("dcgan", tmp_path, tmp_path / "reference")
    killed = tmp_path / "killed"
    for moment in MOMENTS:
        kill_at("dcgan", tmp_path, killed, moment)
        assert (killed / "last.pt").is_file(), moment
    finish(run_child("dcgan", tmp_path, killed), killed)
    finish(reference, tmp_path / "reference")
    same_state(
        read_checkpoint(tmp_path / "reference" / "last.pt"), read_checkpoint(killed / "last.pt")
    )
    assert (killed / "history.json").read_text() == (
        tmp_path / "reference" / "history.json"
    ).read_text()
