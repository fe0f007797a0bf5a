"""The checkpointed run: outputs, exact resume, NaN stop, settings checks."""

from __future__ import annotations

import json
import os
import signal

import pytest
import torch
from tests.run_child import full_disk_for, same_state

import vislab.gan.resumable as resumable
from vislab.checkpoints import CheckpointWriteError
from vislab.errors import InvalidInputError, RunInterrupted
from vislab.gan import GanConfig, TrainingDivergedError, load_checkpoint, load_generator, train_gan
from vislab.gan.losses import discriminator_loss, generator_loss
from vislab.run_guard import RunGuard


def tiny_images(count=32, seed=0):
    return torch.rand(count, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def tiny_config(**changes):
    values = dict(model="fc", loss="bce", epochs=2, batch_size=8, noise_dim=8, show_every=3,
                  num_train=32, seed=4)  # fmt: skip
    return GanConfig(**{**values, **changes})


def test_outputs_of_a_run(tmp_path):
    run = train_gan(tiny_images(40), tiny_config(), tmp_path)
    assert run.epochs_done == 2 and len(run.history["d_loss"]) == 2 * (32 // 8)
    assert [p.name for p in run.grids] == [
        "iter_000000.png", "iter_000003.png", "iter_000006.png", "final.png"
    ]  # fmt: skip
    assert run.loss_curve.is_file() and run.checkpoint == tmp_path / "last.pt"
    assert json.loads((tmp_path / "history.json").read_text())["g_loss"] == run.history["g_loss"]
    state = load_checkpoint(run.checkpoint)
    assert state["epoch"] == 2 and state["iteration"] == 8
    G, config = load_generator(run.checkpoint)
    assert config == tiny_config() and not G.training


def test_resumed_run_equals_the_uninterrupted_run(tmp_path):
    images = tiny_images()
    whole = train_gan(images, tiny_config(epochs=2), tmp_path / "whole")
    train_gan(images, tiny_config(epochs=1), tmp_path / "split")
    resumed = train_gan(images, tiny_config(epochs=2), tmp_path / "split", resume=True)
    assert resumed.history == whole.history
    a, b = load_checkpoint(whole.checkpoint), load_checkpoint(resumed.checkpoint)
    for part in ("generator", "discriminator"):
        for key, value in a[part].items():
            assert torch.equal(value, b[part][key]), f"{part}.{key}"
    assert torch.equal(a["rng"]["generators"][0], b["rng"]["generators"][0])  # noise stream


def test_existing_run_needs_resume_and_the_same_settings(tmp_path):
    train_gan(tiny_images(), tiny_config(epochs=1), tmp_path)
    with pytest.raises(InvalidInputError, match="--resume"):
        train_gan(tiny_images(), tiny_config(epochs=1), tmp_path)
    with pytest.raises(InvalidInputError, match="loss: bce -> ls"):
        train_gan(tiny_images(), tiny_config(epochs=2, loss="ls"), tmp_path, resume=True)
    done = train_gan(tiny_images(), tiny_config(epochs=1), tmp_path, resume=True)
    assert done.epochs_done == 1 and done.loss_curve is not None


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    calls = {"n": 0}

    def exploding_loss(logits_real, logits_fake):
        calls["n"] += 1
        loss = discriminator_loss(logits_real, logits_fake)
        return loss * float("nan") if calls["n"] == 6 else loss  # step 2 of epoch 2

    monkeypatch.setattr(resumable, "loss_pair", lambda name: (exploding_loss, generator_loss))
    with pytest.raises(TrainingDivergedError, match=r"iteration 5 of epoch 2.*last\.pt"):
        train_gan(tiny_images(), tiny_config(epochs=3), tmp_path)
    state = load_checkpoint(tmp_path / "last.pt")
    assert state["epoch"] == 1 and all(torch.isfinite(v).all() for v in state["generator"].values())


def test_bad_settings_are_refused():
    with pytest.raises(InvalidInputError, match="unknown loss"):
        GanConfig(loss="wasserstein")
    with pytest.raises(InvalidInputError, match="unknown model"):
        GanConfig(model="big")
    with pytest.raises(InvalidInputError, match="fewer than one batch"):
        train_gan(tiny_images(4), tiny_config(), "unused")


def test_resume_refuses_other_images_and_names_the_key(tmp_path):
    train_gan(tiny_images(), tiny_config(epochs=1), tmp_path)
    with pytest.raises(InvalidInputError, match="cannot resume .*data images_sha256"):
        train_gan(tiny_images(seed=1), tiny_config(epochs=2), tmp_path, resume=True)
    with pytest.raises(InvalidInputError, match="data: fashion-mnist -> mnist"):
        train_gan(tiny_images(), tiny_config(epochs=2, data="mnist"), tmp_path, resume=True)


class Stop(Exception):
    """Ends a run abruptly, in-process, as a kill would."""


def _after_step_call(monkeypatch, calls, action):
    original, count = RunGuard.after_step, [0]

    def after_step(self, iteration):
        count[0] += 1
        if count[0] == calls:
            action()
        return original(self, iteration)

    monkeypatch.setattr(RunGuard, "after_step", after_step)


def test_a_run_stopped_mid_epoch_resumes_exactly(tmp_path, monkeypatch):
    images = tiny_images()
    whole = train_gan(images, tiny_config(epochs=2), tmp_path / "whole", checkpoint_every="2it")

    def stop():
        raise Stop

    with monkeypatch.context() as patch:
        _after_step_call(patch, 7, stop)  # the checkpoint after step 6 is mid-epoch 2
        with pytest.raises(Stop):
            train_gan(images, tiny_config(epochs=2), tmp_path / "split", checkpoint_every="2it")
    assert load_checkpoint(tmp_path / "split" / "last.pt")["step"] == 2
    resumed = train_gan(images, tiny_config(epochs=2), tmp_path / "split", resume=True)
    assert resumed.history == whole.history
    same_state(load_checkpoint(whole.checkpoint), load_checkpoint(resumed.checkpoint))


def test_sigterm_writes_a_checkpoint_and_stops(tmp_path, monkeypatch):
    _after_step_call(monkeypatch, 3, lambda: os.kill(os.getpid(), signal.SIGTERM))
    with pytest.raises(RunInterrupted, match="SIGTERM after iteration 3.*--resume") as caught:
        train_gan(tiny_images(), tiny_config(), tmp_path)
    assert load_checkpoint(caught.value.checkpoint)["iteration"] == 3


def test_a_full_disk_keeps_the_previous_checkpoint_and_stops(tmp_path, monkeypatch):
    train_gan(tiny_images(), tiny_config(epochs=1), tmp_path)
    before = (tmp_path / "last.pt").read_bytes()

    monkeypatch.setattr(os, "fsync", full_disk_for("last.pt"))
    with pytest.raises(CheckpointWriteError, match="No space left on device.*previous"):
        train_gan(tiny_images(), tiny_config(epochs=2), tmp_path, resume=True)
    assert (tmp_path / "last.pt").read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))
