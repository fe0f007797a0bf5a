"""The checkpointed run: outputs, exact resume, NaN stop, settings checks."""

from __future__ import annotations

import json

import pytest
import torch

import vislab.gan.resumable as resumable
from vislab.errors import InvalidInputError
from vislab.gan import GanConfig, TrainingDivergedError, load_checkpoint, load_generator, train_gan
from vislab.gan.losses import discriminator_loss, generator_loss


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
