"""`run_a_gan`: the course's defaults, its log lines and snapshots, a short batch anywhere is
skipped, not the end of the epoch, and the discriminator always sees images (survivors of
mutation testing)."""

from __future__ import annotations

import inspect
import logging

import torch
from torch import nn

from vislab.gan import (
    build_models,
    gan_step,
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


class ImageShaped(nn.Module):
    """A discriminator that takes only (N, 1, 28, 28): its first layer is a 28 x 28 conv."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, kernel_size=28)

    def forward(self, x):
        if x.shape[1:] != (1, 28, 28):
            raise AssertionError(f"the discriminator got {tuple(x.shape)}")
        return self.conv(x).flatten(1)  # (N, 1)


class Recorded:
    """A course loss that keeps every value it returns, in call order."""

    def __init__(self, loss):
        self.loss, self.values = loss, []

    def __call__(self, *logits):
        value = self.loss(*logits)
        self.values.append(float(value.detach()))
        return value


def test_the_defaults_train_ten_epochs_of_128_with_96_noise_and_log_every_250(caplog):
    """Called without the four options: 26 batches of 128 for 10 epochs are 260 iterations,
    snapshots (16 fakes each) and log lines at iterations 0 and 250 with that step's losses."""
    torch.manual_seed(0)
    images = torch.rand(26 * 128, 1, 28, 28)
    loader = [(images[k : k + 128], None) for k in range(0, len(images), 128)]
    D, G = ImageShaped(), nn.Sequential(nn.Linear(96, 784), nn.Tanh())
    d_loss, g_loss = Recorded(ls_discriminator_loss), Recorded(ls_generator_loss)
    caplog.set_level(logging.INFO, logger="vislab.gan.training")
    snapshots = run_a_gan(D, G, get_optimizer(D), get_optimizer(G), d_loss, g_loss, loader)
    assert len(d_loss.values) == len(g_loss.values) == 260
    assert [snapshot.shape for snapshot in snapshots] == [(16, 784)] * 2
    assert [record.getMessage() for record in caplog.records] == [
        f"Iter: {t}, D: {d_loss.values[t]:.4g}, G: {g_loss.values[t]:.4g}" for t in (0, 250)
    ]


def test_both_steps_hand_the_discriminator_images_not_rows():
    D, G = ImageShaped(), nn.Sequential(nn.Linear(8, 784), nn.Tanh())
    real = torch.rand(4, 1, 28, 28) * 2 - 1
    d_error, g_error, fakes = gan_step(
        D, G, get_optimizer(D), get_optimizer(G), ls_discriminator_loss, ls_generator_loss,
        real, torch.randn(4, 8), torch.randn(4, 8),
    )  # fmt: skip
    assert fakes.shape == (4, 784) and d_error.shape == g_error.shape == ()
