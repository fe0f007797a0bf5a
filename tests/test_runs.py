"""vislab.runs and vislab.run_guard: the resume rule, fingerprints, RNG state, the device check,
the checkpoint clock, signals and the finite-loss check."""

from __future__ import annotations

import errno
import json
import os
import signal

import numpy as np
import pytest
import torch

import vislab.runs as runs
from vislab.checkpoints import CheckpointWriteError
from vislab.errors import CorruptFileError, InvalidInputError, RunInterrupted
from vislab.run_guard import CheckpointEvery, RunGuard, TrainingDivergedError
from vislab.runs import (
    RunFolder,
    check_device,
    data_fingerprint,
    file_fingerprint,
    is_improvement,
    open_run,
    restore_rng_state,
    rng_state,
)

OPTIONS = {"epochs": 2, "learning_rate": 1e-3, "seed": 0, "device": "cpu"}
DATA = {"name": "tiny", "vocabulary_sha256": "ab" * 32}


def test_a_new_folder_gets_run_json_and_a_finished_one_needs_resume(tmp_path):
    folder = open_run(tmp_path / "run", OPTIONS, DATA, resume=False)
    assert not folder.resuming and folder.last == tmp_path / "run" / "last.pt"
    record = json.loads(folder.record.read_text())
    assert record["options"] == OPTIONS and record["data"] == DATA
    assert {"python", "torch", "numpy", "vislab"} <= set(record["versions"])
    open_run(tmp_path / "run", OPTIONS, DATA, resume=False)  # no checkpoint yet: nothing lost
    folder.last.write_bytes(b"x")
    with pytest.raises(InvalidInputError, match="already holds a run .*pass --resume"):
        open_run(tmp_path / "run", OPTIONS, DATA, resume=False)
    again = open_run(tmp_path / "run", {**OPTIONS, "epochs": 5}, DATA, resume=True)
    assert again.resuming  # the number of epochs may grow
    assert json.loads(folder.record.read_text())["options"]["epochs"] == 5


def test_resume_names_every_differing_option_and_data_key(tmp_path):
    folder = open_run(tmp_path, OPTIONS, DATA, resume=False)
    folder.last.write_bytes(b"x")
    changed = {**OPTIONS, "learning_rate": 1e-2, "seed": 3, "device": "cuda"}
    other = {**DATA, "vocabulary_sha256": "cd" * 32, "file a.h5": {"size": 1}}
    with pytest.raises(InvalidInputError) as caught:
        open_run(tmp_path, changed, other, resume=True)
    message = str(caught.value)
    assert "learning_rate: 0.001 -> 0.01" in message and "seed: 0 -> 3" in message
    assert "data vocabulary_sha256: abababab" in message and "data file a.h5: (none) ->" in message
    assert "device" not in message  # a run may move to another device
    assert json.loads(folder.record.read_text())["options"] == OPTIONS  # left as it was


def test_resume_without_or_with_a_damaged_run_json(tmp_path):
    (tmp_path / "last.pt").write_bytes(b"x")
    with pytest.raises(InvalidInputError, match="no run.json beside it"):
        open_run(tmp_path, OPTIONS, DATA, resume=True)
    (tmp_path / "run.json").write_text("{not json")
    with pytest.raises(CorruptFileError, match="run.json is not a readable run record"):
        open_run(tmp_path, OPTIONS, DATA, resume=True)
    (tmp_path / "run.json").write_text('{"options": {}}')
    with pytest.raises(CorruptFileError, match="lacks the run's options or data"):
        open_run(tmp_path, OPTIONS, DATA, resume=True)


def test_stale_temporary_files_of_a_killed_write_are_removed(tmp_path):
    (tmp_path / ".last.pt.abc123.tmp").write_bytes(b"half")
    open_run(tmp_path, OPTIONS, DATA, resume=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_fingerprints(tmp_path, monkeypatch):
    small = tmp_path / "small.h5"
    small.write_bytes(b"abc")
    assert file_fingerprint(small) == {
        "size": 3,
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    }
    monkeypatch.setattr(runs, "WHOLE_HASH_BYTES", 10)
    monkeypatch.setattr(runs, "SAMPLE_BYTES", 4)
    big = tmp_path / "big.h5"
    big.write_bytes(b"0123456789abcdef")
    middle = tmp_path / "middle.h5"
    middle.write_bytes(b"0123XXXXXXXXcdef")  # same ends, same size: the sample cannot tell
    assert file_fingerprint(big) == file_fingerprint(middle)
    middle.write_bytes(b"0123456789abcdeX")
    assert file_fingerprint(big) != file_fingerprint(middle)
    words = ["<NULL>", "a", "cat"]
    one = data_fingerprint("tiny", [small], words, {"x": np.zeros(3, np.float32)})
    assert set(one) == {"name", "file small.h5", "vocabulary_sha256", "x_sha256"}
    assert one != data_fingerprint("tiny", [small], [*words, "dog"], {"x": np.zeros(3)})
    assert one == data_fingerprint("tiny", [small], words, {"x": torch.zeros(3)})


def test_rng_state_round_trip():
    numpy_rng, noise = np.random.default_rng(1), torch.Generator().manual_seed(2)
    saved = rng_state(numpy_rng, [noise])
    expected = (numpy_rng.random(3), torch.rand(3, generator=noise), torch.rand(3))
    other_numpy, other_noise = np.random.default_rng(9), torch.Generator().manual_seed(9)
    restore_rng_state(saved, other_numpy, [other_noise])
    np.testing.assert_array_equal(other_numpy.random(3), expected[0])
    assert torch.equal(torch.rand(3, generator=other_noise), expected[1])
    assert torch.equal(torch.rand(3), expected[2])
    with pytest.raises(ValueError, match="1 generator states for 0"):
        restore_rng_state(saved)


def test_best_never_becomes_nan():
    assert is_improvement(1.0, float("inf"))
    assert not is_improvement(float("nan"), float("inf"))
    assert not is_improvement(float("-inf"), 1.0)
    assert not is_improvement(2.0, 1.0)


def test_device_check_is_one_sentence(monkeypatch):
    assert check_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InvalidInputError, match="^--device cuda was asked for but CUDA is not"):
        check_device("cuda")
    with pytest.raises(InvalidInputError, match="unknown device 'tpu'"):
        check_device("tpu")
    with pytest.raises(InvalidInputError, match="unknown device 'meta'"):
        check_device("meta")


def test_checkpoint_every_forms():
    assert CheckpointEvery.parse("5min") == CheckpointEvery(seconds=300.0)
    assert CheckpointEvery.parse("30s") == CheckpointEvery(seconds=30.0)
    assert CheckpointEvery.parse("1.5h") == CheckpointEvery(seconds=5400.0)
    assert CheckpointEvery.parse("200it") == CheckpointEvery(iterations=200)
    for bad in ("5", "0it", "1.5it", "-3s", "5 minutes", ""):
        with pytest.raises(InvalidInputError, match="--checkpoint-every"):
            CheckpointEvery.parse(bad)


def test_guard_writes_every_n_iterations_and_stops_on_sigterm(tmp_path):
    written = []
    guard = RunGuard(RunFolder(tmp_path), "3it", lambda path: written.append(path))
    with guard:
        for iteration in range(1, 8):
            guard.after_step(iteration)
        assert written == [tmp_path / "last.pt"] * 2  # after iterations 3 and 6
        os.kill(os.getpid(), signal.SIGTERM)  # handled: a flag, not the end of the process
        with pytest.raises(RunInterrupted, match="SIGTERM after iteration 8.*--resume") as caught:
            guard.after_step(8)
    assert caught.value.checkpoint == tmp_path / "last.pt" and len(written) == 3
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # put back


def test_guard_refuses_non_finite_losses_and_parameters(tmp_path):
    weights = [np.ones(3)]
    guard = RunGuard(RunFolder(tmp_path), "5min", lambda path: path.write_bytes(b"ok"),
                     parameters=lambda: weights)  # fmt: skip
    guard.check_finite({"loss": 1.0}, 4, 1)
    with pytest.raises(TrainingDivergedError, match="no checkpoint had been written yet"):
        guard.check_finite({"loss": float("nan")}, 4, 1)
    guard.write()
    with pytest.raises(TrainingDivergedError, match=r"\(D 1.0, G inf\) at iteration 7 of epoch 2"):
        guard.check_finite({"D": 1.0, "G": float("inf")}, 7, 2)
    weights[0][1] = np.nan
    with pytest.raises(
        TrainingDivergedError, match="parameters became non-finite.*last.pt is kept"
    ):
        guard.write()
    assert (tmp_path / "last.pt").read_bytes() == b"ok"


def test_a_full_disk_while_writing_run_json_is_one_sentence(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(CheckpointWriteError, match=r"run.json \(No space left on device\); free"):
        open_run(tmp_path, OPTIONS, DATA, resume=False)
    assert list(tmp_path.iterdir()) == []
