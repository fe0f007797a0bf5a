"""Integrated Gradients (Sundararajan et al. 2017).

    IG(x) = (x - x') * integral_0^1 d score_y(x' + a (x - x')) / dx  da

approximated with the midpoint rule over `num_steps` points. The attributions sum to
score(x) - score(x') up to the quadrature error (completeness). Path points are pushed through
the model in chunks of `batch_size` images, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from vislab.backbones.classifier import require_model
from vislab.errors import InvalidInputError
from vislab.explain.saliency import input_gradients
from vislab.explain.targets import Target, target_tensor


def integrated_gradients(
    X: torch.Tensor,
    y: torch.Tensor | Sequence[Target],
    model: nn.Module,
    baseline: torch.Tensor | None = None,
    num_steps: int = 32,
    batch_size: int = 16,
) -> torch.Tensor:
    """Attributions (N, C, H, W) for X (N, C, H, W) and targets y (N,); X untouched.

    baseline: (N or 1, C, H, W) in the model's input space; default zeros, which for a
    normalised input is the mean colour.
    """
    model = require_model(model, "integrated_gradients")
    if X.ndim != 4:
        raise InvalidInputError(f"expected images (N, C, H, W), got shape {tuple(X.shape)}")
    if num_steps < 1 or batch_size < 1:
        raise InvalidInputError("num_steps and batch_size must be at least 1")
    y = target_tensor(y, model, len(X))
    X = X.detach()
    N = len(X)
    baseline = torch.zeros_like(X) if baseline is None else baseline.detach().expand_as(X)
    alphas = (torch.arange(num_steps, dtype=X.dtype, device=X.device) + 0.5) / num_steps
    total = torch.zeros_like(X)
    # Work item k is path point k // N of image k % N.
    for start in range(0, N * num_steps, batch_size):
        items = torch.arange(start, min(start + batch_size, N * num_steps), device=X.device)
        images, steps = items % N, items // N
        a = alphas[steps].view(-1, 1, 1, 1)
        points = baseline[images] + a * (X[images] - baseline[images])
        total.index_add_(0, images, input_gradients(points, y[images], model))
    return (X - baseline) * total / num_steps


def integrated_gradients_saliency_maps(
    X: torch.Tensor,
    y: torch.Tensor | Sequence[Target],
    model: nn.Module,
    num_steps: int = 32,
    batch_size: int = 16,
) -> torch.Tensor:
    """Channel-max of |IG| as a map comparable to vanilla saliency: (N, H, W)."""
    attributions = integrated_gradients(X, y, model, num_steps=num_steps, batch_size=batch_size)
    return attributions.abs().amax(dim=1)
