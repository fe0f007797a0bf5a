"""SIGKILL at three moments, then --resume: the numpy RNN and the Transformer end with the same
checkpoints, bit for bit, as a run that was never interrupted (tests/run_child.py)."""

from __future__ import annotations

import pytest
from tests.run_child import finish, kill_at, run_child, same_state

from vislab.checkpoints import read_checkpoint

# 30 captions in batches of 10: 3 steps an epoch, 3 epochs, last.pt every 2 steps and epoch.
MOMENTS = (
    "step:4",  # mid-epoch 2, two steps after the checkpoint at step 2... lost and redone
    "replace:last.pt:2",  # inside the write of the second last.pt, before the rename
    "replace:best.pt:1",  # inside this process's first best.pt write, at an epoch's end
)


@pytest.mark.slow  # five child processes each (~30 s idle, minutes on a busy machine)
@pytest.mark.parametrize("trainer", ["rnn", "transformer"])
def test_killed_three_times_and_resumed_equals_the_uninterrupted_run(
    trainer, tiny_coco_dir, tmp_path
):
    reference = run_child(trainer, tiny_coco_dir, tmp_path / "reference")
    killed = tmp_path / "killed"
    for moment in MOMENTS:
        kill_at(trainer, tiny_coco_dir, killed, moment)
        assert (killed / "last.pt").is_file(), moment
    finish(run_child(trainer, tiny_coco_dir, killed), killed)
    finish(reference, tmp_path / "reference")
    for name in ("last.pt", "best.pt"):
        same_state(read_checkpoint(tmp_path / "reference" / name), read_checkpoint(killed / name))
    assert (killed / "history.json").read_text() == (
        tmp_path / "reference" / "history.json"
    ).read_text()
    assert not list(killed.glob(".*.tmp"))
