"""`run_a_gan`: the course's defaults, and a short batch anywhere is skipped, not the end of
the epoch (survivors of mutation testing)."""

from __future__ import annotations

import inspect

import torch

from vislab.gan import (
    build_models,
    get_optimizer,
    ls_discriminator_loss,
    ls_generator_loss,
    run_a_gan,
)


def test_the_course_defaults():
    parameters = inspect.signature(run_a_gan).parameters
    defaults = {name: parameters[name].default for name in
                ("show_every", "batch_size", "noise_size", "num_epochs")}  # fmt: skip
    assert defaults == {"show_every": 250, "batch_size": 128, "noise_size": 96, "num_epochs": 10}


def test_a_short_batch_first_is_skipped_and_the_rest_train():
    images = torch.rand(20, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    labels = torch.zeros(20, dtype=torch.long)
    loader = [(images[:4], labels[:4]), (images[4:12], labels[4:12]), (images[12:], labels[12:])]
    D, G = build_models("fc", noise_dim=8, seed=0)
    snapshots = run_a_gan(
        D, G, get_optimizer(D), get_optimizer(G), ls_discriminator_loss, ls_generator_loss,
        loader, show_every=1, batch_size=8, noise_size=8, num_epochs=1,
    )  # fmt: skip
    assert len(snapshots) == 2  # the two full batches, after the short one
