"""The course's GAN loop (`run_a_gan`), its optimiser, and the step both loops share."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import numpy as np
import torch
from torch import nn

from vislab.gan.images import preprocess_img
from vislab.gan.models import sample_noise

logger = logging.getLogger(__name__)


def get_optimizer(model: nn.Module, learning_rate: float = 1e-3) -> torch.optim.Adam:
    """Adam with the course's settings: lr 1e-3, betas (0.5, 0.999)."""
    return torch.optim.Adam(model.parameters(), lr=learning_rate, betas=(0.5, 0.999))


def gan_step(
    D: nn.Module,
    G: nn.Module,
    D_solver: torch.optim.Optimizer,
    G_solver: torch.optim.Optimizer,
    discriminator_loss: Callable,
    generator_loss: Callable,
    real: torch.Tensor,
    d_noise: torch.Tensor,
    g_noise: torch.Tensor,
    D_for_generator: nn.Module | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One discriminator step on detached fakes, then one generator step on fresh noise.

    real: (N, 1, 28, 28) in [-1, 1]; d_noise, g_noise: (N, Z). `D_for_generator` is the
    discriminator the generator step runs through (the plain module under DDP, so that its
    gradients, which nobody uses, are not all-reduced). Returns (d_loss, g_loss) detached
    scalars and the generator-step fakes (N, 784), detached.
    """
    D_solver.zero_grad()
    logits_real = D(real)
    with torch.no_grad():  # the discriminator step does not train G
        fake_images = G(d_noise)
    logits_fake = D(fake_images.view(-1, 1, 28, 28))  # (N, 784) -> (N, 1, 28, 28)
    d_total_error = discriminator_loss(logits_real, logits_fake)
    d_total_error.backward()
    D_solver.step()

    G_solver.zero_grad()
    fake_images = G(g_noise)
    gen_logits_fake = (D_for_generator or D)(fake_images.view(-1, 1, 28, 28))  # (N, 1, 28, 28)
    g_error = generator_loss(gen_logits_fake)
    g_error.backward()
    G_solver.step()
    return d_total_error.detach(), g_error.detach(), fake_images.detach()


def run_a_gan(
    D: nn.Module,
    G: nn.Module,
    D_solver: torch.optim.Optimizer,
    G_solver: torch.optim.Optimizer,
    discriminator_loss: Callable,
    generator_loss: Callable,
    loader_train: Iterable,
    show_every: int = 250,
    batch_size: int = 128,
    noise_size: int = 96,
    num_epochs: int = 10,
) -> list[np.ndarray]:
    """Train a GAN the course's way; return 16 generated images every `show_every` iterations.

    loader_train yields (x, y) with x: (N, 1, 28, 28) in [0, 1]; batches shorter than
    `batch_size` are skipped. Noise comes from torch's global generator. Each snapshot is a
    (16, 784) numpy array in [-1, 1], taken from the generator step's fakes.
    """
    device = next(D.parameters()).device
    images = []
    iter_count = 0
    for _epoch in range(num_epochs):
        for x, _ in loader_train:
            if len(x) != batch_size:
                continue
            real_data = preprocess_img(x.to(device))
            d_noise = sample_noise(batch_size, noise_size).to(device)
            g_noise = sample_noise(batch_size, noise_size).to(device)
            d_error, g_error, fake_images = gan_step(
                D, G, D_solver, G_solver, discriminator_loss, generator_loss,
                real_data, d_noise, g_noise,
            )  # fmt: skip
            if iter_count % show_every == 0:
                logger.info("Iter: %d, D: %.4g, G: %.4g", iter_count, d_error, g_error)
                images.append(fake_images[0:16].cpu().numpy())
            iter_count += 1
    return images
