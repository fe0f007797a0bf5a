"""SmoothGrad (Smilkov et al. 2017): the mean of vanilla saliency maps over noisy copies.

    M(x) = 1/n sum_i S(x + e_i),  e_i ~ N(0, sigma^2),  sigma = noise_level * (max x - min x)

Noisy copies are pushed through the model in chunks of `batch_size` images, so memory stays
flat however many samples are asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from vislab.backbones.classifier import require_model
from vislab.errors import InvalidInputError
from vislab.explain.saliency import input_gradients
from vislab.explain.targets import Target, target_tensor


def smoothgrad_saliency_maps(
    X: torch.Tensor,
    y: torch.Tensor | Sequence[Target],
    model: nn.Module,
    num_samples: int = 25,
    noise_level: float = 0.15,
    batch_size: int = 16,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """SmoothGrad saliency: X (N, C, H, W), y (N,) -> (N, H, W), nonnegative; X untouched."""
    model = require_model(model, "smoothgrad_saliency_maps")
    if X.ndim != 4:
        raise InvalidInputError(f"expected images (N, C, H, W), got shape {tuple(X.shape)}")
    if num_samples < 1 or batch_size < 1:
        raise InvalidInputError("num_samples and batch_size must be at least 1")
    y = target_tensor(y, model, len(X))
    N = len(X)
    X = X.detach()
    sigma = noise_level * (X.flatten(1).amax(1) - X.flatten(1).amin(1))  # (N,)
    total = torch.zeros(N, *X.shape[2:], dtype=X.dtype, device=X.device)
    # Work item k is sample k // N of image k % N; chunks never hold more than batch_size.
    for start in range(0, N * num_samples, batch_size):
        items = torch.arange(start, min(start + batch_size, N * num_samples), device=X.device)
        images = items % N
        noise = torch.randn(
            (len(items), *X.shape[1:]), generator=generator, dtype=X.dtype, device="cpu"
        ).to(X.device)
        noisy = X[images] + noise * sigma[images].view(-1, 1, 1, 1)
        maps = input_gradients(noisy, y[images], model).abs().amax(dim=1)  # (B, H, W)
        total.index_add_(0, images, maps)
    return total / num_samples
