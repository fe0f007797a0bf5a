"""The run-folder rules for both captioner families (vislab.runs, vislab.run_guard): refusals,
mid-epoch resume, SIGTERM, NaN and a full disk; in-process and tiny."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest
import torch
from tests.conftest import build_tiny_coco
from tests.run_child import full_disk_for, same_state

from vislab.captioning import load_captioner, train_captioner
from vislab.captioning.numpy_rnn import CaptioningRNN
from vislab.captioning.transformer_solver import CaptioningSolverTransformer
from vislab.checkpoints import CheckpointWriteError, read_checkpoint
from vislab.errors import InvalidInputError, RunInterrupted
from vislab.run_guard import RunGuard, TrainingDivergedError

SIZES = {
    "rnn": {"wordvec_dim": 8, "hidden_dim": 16, "blas_threads": 1},
    "transformer": {"wordvec_dim": 16, "num_heads": 2, "num_layers": 1, "max_length": 20},
}
# 30 captions in batches of 10: 3 steps an epoch.
COMMON = {
    "batch_size": 10,
    "max_train": 30,
    "seed": 5,
    "max_val_captions": 10,
    "learning_rate": 0.01,
}
TRAINERS = ["rnn", "transformer"]


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def train(model, data, out, **options):
    return train_captioner(model, data, out, **{**COMMON, **SIZES[model], **options})


class Stop(Exception):
    """What the tests raise to end a run abruptly (as a kill would, but in-process)."""


def stop_after(monkeypatch, calls: int, action=None) -> None:
    """Make RunGuard.after_step run `action` (default: raise Stop) after its `calls`-th call."""
    original, count = RunGuard.after_step, [0]

    def after_step(self, iteration):
        count[0] += 1
        if count[0] == calls:
            if action is None:
                raise Stop
            action()
        return original(self, iteration)

    monkeypatch.setattr(RunGuard, "after_step", after_step)


@pytest.mark.parametrize("model", TRAINERS)
def test_an_existing_run_is_refused_without_resume_or_with_other_settings_or_data(
    model, tiny_coco_dir, tmp_path
):
    out = tmp_path / "run"
    train(model, tiny_coco_dir, out, epochs=1)
    assert json.loads((out / "run.json").read_text())["data"]["name"] == "coco_captioning"
    with pytest.raises(InvalidInputError, match="already holds a run .*pass --resume"):
        train(model, tiny_coco_dir, out, epochs=2)
    with pytest.raises(InvalidInputError, match="cannot resume .*learning_rate: 0.01 -> 0.5"):
        train(model, tiny_coco_dir, out, epochs=2, resume=True, learning_rate=0.5)
    other = build_tiny_coco(tmp_path / "other" / "coco_captioning", seed=1)
    with pytest.raises(InvalidInputError, match="data file coco2014_captions.h5") as caught:
        train(model, other, out, epochs=2, resume=True)
    assert "data vocabulary_sha256" not in str(caught.value)  # same words, other captions
    assert train(model, tiny_coco_dir, out, epochs=2, resume=True).history["val_loss"]


@pytest.mark.parametrize("model", TRAINERS)
def test_a_run_stopped_mid_epoch_resumes_exactly(model, tiny_coco_dir, tmp_path, monkeypatch):
    straight = train(model, tiny_coco_dir, tmp_path / "straight", epochs=2, checkpoint_every="2it")
    with monkeypatch.context() as patch:
        stop_after(patch, 5)  # step 5 of 6: the last checkpoint was at step 4, mid-epoch 2
        with pytest.raises(Stop):
            train(model, tiny_coco_dir, tmp_path / "split", epochs=2, checkpoint_every="2it")
    assert read_checkpoint(tmp_path / "split" / "last.pt")["step"] == 1  # epoch 2, step 1
    resumed = train(model, tiny_coco_dir, tmp_path / "split", epochs=2, resume=True)
    assert resumed.history == straight.history
    for name in ("last.pt", "best.pt"):
        same_state(
            read_checkpoint(tmp_path / "straight" / name),
            read_checkpoint(tmp_path / "split" / name),
        )


@pytest.mark.parametrize("model", TRAINERS)
def test_sigterm_writes_a_checkpoint_and_stops(model, tiny_coco_dir, tmp_path, monkeypatch):
    stop_after(monkeypatch, 2, lambda: os.kill(os.getpid(), signal.SIGTERM))
    with pytest.raises(RunInterrupted, match="SIGTERM after iteration 2.*last.pt.*--resume") as e:
        train(model, tiny_coco_dir, tmp_path, epochs=2)
    assert e.value.checkpoint == tmp_path / "last.pt"
    assert read_checkpoint(e.value.checkpoint)["step"] == 2
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def _poison(model: str, monkeypatch, at_call: int) -> None:
    """The loss of the `at_call`-th training step becomes NaN."""
    count = [0]
    if model == "rnn":
        original = CaptioningRNN.loss

        def loss(self, features, captions, compute_grads=True):
            value, grads = original(self, features, captions, compute_grads=compute_grads)
            if compute_grads:
                count[0] += 1
                if count[0] == at_call:
                    value = float("nan")
            return value, grads

        monkeypatch.setattr(CaptioningRNN, "loss", loss)
    else:
        original = CaptioningSolverTransformer._minibatch

        def minibatch(self, index, split):
            captions, features = original(self, index, split)
            if split == "train":
                count[0] += 1
                if count[0] == at_call:
                    features = features * float("nan")
            return captions, features

        monkeypatch.setattr(CaptioningSolverTransformer, "_minibatch", minibatch)


@pytest.mark.parametrize("model", TRAINERS)
def test_a_nan_loss_stops_and_keeps_the_last_good_checkpoints(
    model, tiny_coco_dir, tmp_path, monkeypatch
):
    _poison(model, monkeypatch, at_call=5)  # step 2 of epoch 2
    with pytest.raises(
        TrainingDivergedError,
        match=r"\(loss nan\) at iteration 4 of epoch 2; "
        r"the last good checkpoint .*last.pt is kept: try a lower learning rate",
    ):
        train(model, tiny_coco_dir, tmp_path, epochs=3)  # fmt: skip
    last = read_checkpoint(tmp_path / "last.pt")
    assert last["epoch"] == 1 and last["step"] == 0
    assert all(np.isfinite(v).all() for v in last["history"]["train_loss"])
    assert last["best_val_loss"] == last["history"]["val_loss"][0]  # finite, not nan
    assert load_captioner(tmp_path / "best.pt").epoch == 1


@pytest.mark.parametrize("model", TRAINERS)
def test_a_full_disk_keeps_the_previous_checkpoint_and_stops(
    model, tiny_coco_dir, tmp_path, monkeypatch
):
    train(model, tiny_coco_dir, tmp_path, epochs=1)
    before = (tmp_path / "last.pt").read_bytes()

    monkeypatch.setattr(os, "fsync", full_disk_for("last.pt"))
    with pytest.raises(CheckpointWriteError, match="No space left on device.*previous checkpoint"):
        train(model, tiny_coco_dir, tmp_path, epochs=2, resume=True, checkpoint_every="1it")
    assert (tmp_path / "last.pt").read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))
