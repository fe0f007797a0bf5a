"""Drawing images from a trained generator: batches, grids and latent interpolation strips."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from vislab.errors import InvalidInputError
from vislab.gan.checkpoints import load_generator
from vislab.gan.images import show_images
from vislab.gan.models import sample_noise


@torch.no_grad()
def generate(G: nn.Module, noise: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """G(noise) in eval mode, chunk by chunk: noise (M, Z) -> images (M, 784) in [-1, 1].

    In eval mode BatchNorm uses its running statistics, so each image depends on its own
    noise only (not on the rest of the chunk) and chunking changes nothing.
    """
    was_training = G.training
    G.eval()
    device = next(G.parameters()).device
    try:
        chunks = [G(part.to(device)).cpu() for part in noise.split(batch_size)]
    finally:
        G.train(was_training)
    return torch.cat(chunks)


def interpolation_noise(
    noise_dim: int, rows: int = 4, steps: int = 10, seed: int = 0
) -> torch.Tensor:
    """Straight lines in noise space between `rows` random pairs: (rows * steps, Z)."""
    if rows < 1 or steps < 2:
        raise InvalidInputError(f"need at least 1 row and 2 steps, got {rows} and {steps}")
    rng = torch.Generator().manual_seed(seed)
    start = sample_noise(rows, noise_dim, generator=rng)  # (rows, Z)
    end = sample_noise(rows, noise_dim, generator=rng)
    weights = torch.linspace(0, 1, steps).view(1, steps, 1)  # (1, steps, 1)
    path = start[:, None] * (1 - weights) + end[:, None] * weights  # (rows, steps, Z)
    return path.reshape(rows * steps, noise_dim)  # (rows*steps, Z), row by row


def sample_checkpoint(
    checkpoint: str | os.PathLike,
    out_path: str | os.PathLike,
    num: int = 64,
    interpolate: bool = False,
    seed: int = 0,
    device: str | torch.device = "cpu",
    weights: str = "raw",
) -> list[Path]:
    """Write a grid of `num` samples (and optionally a 4 x 10 interpolation strip) as PNGs.

    weights: "raw" (the trained generator) or "ema" (its moving average, when kept).
    """
    if num < 1:
        raise InvalidInputError(f"--num must be at least 1, got {num}")
    G, config = load_generator(checkpoint, device, weights=weights)
    noise = sample_noise(num, config.noise_dim, generator=torch.Generator().manual_seed(seed))
    out_path = Path(out_path)
    paths = [show_images(generate(G, noise), out_path)]
    if interpolate:
        strip = generate(G, interpolation_noise(config.noise_dim, seed=seed))
        strip_path = out_path.with_name(f"{out_path.stem}_interpolation.png")
        paths.append(show_images(strip, strip_path, columns=10))
    return paths
