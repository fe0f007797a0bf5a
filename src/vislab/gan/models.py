"""The course's GAN networks: the fully connected pair and the DCGAN pair (InfoGAN generator).

Images travel as (N, 1, 28, 28) or flat (N, 784) tensors scaled to [-1, 1]; every network
here accepts either and generators return flat (N, 784) images, as in the course.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import init

NOISE_DIM = 96
IMAGE_SIZE = 28
IMAGE_DIM = IMAGE_SIZE * IMAGE_SIZE


class Flatten(nn.Module):
    """(N, ...) -> (N, prod(...))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1)  # (N, C, H, W) -> (N, C*H*W)


class Unflatten(nn.Module):
    """(N, C*H*W) -> (N, C, H, W); N=-1 infers the batch size."""

    def __init__(self, N: int = -1, C: int = 128, H: int = 7, W: int = 7):
        super().__init__()
        self.N, self.C, self.H, self.W = N, C, H, W

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(self.N, self.C, self.H, self.W)  # (N, C*H*W) -> (N, C, H, W)


def sample_noise(
    batch_size: int, dim: int, seed: int | None = None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Uniform noise on (-1, 1): (batch_size, dim) float32.

    `seed` reseeds torch's global generator first (the course's behaviour); `generator`
    draws from a private one instead, leaving the global state alone.
    """
    if seed is not None:
        torch.manual_seed(seed)
    return 2 * torch.rand(batch_size, dim, generator=generator) - 1


def initialize_weights(m: nn.Module) -> None:
    """Xavier-uniform weights for Linear and ConvTranspose2d layers (use with `model.apply`)."""
    if isinstance(m, (nn.Linear, nn.ConvTranspose2d)):
        init.xavier_uniform_(m.weight.data)


def count_params(model: nn.Module) -> int:
    """Number of parameters in `model`."""
    return int(sum(np.prod(p.size()) for p in model.parameters()))


def discriminator(seed: int | None = None) -> nn.Sequential:
    """784-256-256-1 with LeakyReLU(0.01): (N, 1, 28, 28) or (N, 784) -> logits (N, 1)."""
    if seed is not None:
        torch.manual_seed(seed)
    return nn.Sequential(
        Flatten(),  # (N, 784)
        nn.Linear(IMAGE_DIM, 256),
        nn.LeakyReLU(0.01),
        nn.Linear(256, 256),
        nn.LeakyReLU(0.01),
        nn.Linear(256, 1),
    )


def generator(noise_dim: int = NOISE_DIM, seed: int | None = None) -> nn.Sequential:
    """Z-1024-1024-784 with ReLU and a final tanh: noise (N, Z) -> images (N, 784) in [-1, 1]."""
    if seed is not None:
        torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(noise_dim, 1024),
        nn.ReLU(),
        nn.Linear(1024, 1024),
        nn.ReLU(),
        nn.Linear(1024, IMAGE_DIM),
        nn.Tanh(),
    )


def build_dc_classifier(batch_size: int) -> nn.Sequential:
    """The DCGAN discriminator: two 5x5 conv + max-pool stages, then 1024-1 fully connected.

    `batch_size` is the course's signature; the reshape infers N so that any batch works
    (a rank's share under DDP, evaluation chunks). (N, 784) or (N, 1, 28, 28) -> (N, 1).
    """
    del batch_size  # kept for the course's call signature; Unflatten infers N
    return nn.Sequential(
        Unflatten(-1, 1, IMAGE_SIZE, IMAGE_SIZE),  # (N, 1, 28, 28)
        nn.Conv2d(1, 32, kernel_size=5, stride=1),  # (N, 32, 24, 24)
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(2, 2),  # (N, 32, 12, 12)
        nn.Conv2d(32, 64, kernel_size=5, stride=1),  # (N, 64, 8, 8)
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(2, 2),  # (N, 64, 4, 4)
        Flatten(),  # (N, 1024)
        nn.Linear(4 * 4 * 64, 4 * 4 * 64),
        nn.LeakyReLU(0.01),
        nn.Linear(4 * 4 * 64, 1),
    )


def build_dc_generator(noise_dim: int = NOISE_DIM) -> nn.Sequential:
    """The InfoGAN MNIST generator: noise (N, Z) -> images (N, 784) in [-1, 1]."""
    return nn.Sequential(
        nn.Linear(noise_dim, 1024),
        nn.ReLU(),
        nn.BatchNorm1d(1024),
        nn.Linear(1024, 7 * 7 * 128),
        nn.ReLU(),
        nn.BatchNorm1d(7 * 7 * 128),
        Unflatten(-1, 128, 7, 7),  # (N, 128, 7, 7)
        nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1),  # (N, 64, 14, 14)
        nn.ReLU(),
        nn.BatchNorm2d(64),
        nn.ConvTranspose2d(64, 1, kernel_size=4, stride=2, padding=1),  # (N, 1, 28, 28)
        nn.Tanh(),
        Flatten(),  # (N, 784)
    )
