"""Integrated Gradients (Sundararajan et al. 2017).

    IG(x) = (x - x') * integral_0^1 d score_y(x' + a (x - x')) / dx  da

approximated with the midpoint rule over `num_steps` points. The attributions sum to
score(x) - score(x') up to the quadrature error (completeness). captum's IntegratedGradients
is the engine (method "riemann_middle"): the former hand-written loop was no faster and within
6% of its memory (benchmarks/bench_attribution.py). Path points go through the model in chunks
of at most `batch_size` images (at least N), so memory stays flat.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from captum.attr import IntegratedGradients
from torch import nn

from vislab.backbones.classifier import require_model
from vislab.errors import InvalidInputError
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
    return integrated_gradients_with_delta(X, y, model, baseline, num_steps, batch_size)[0]


def integrated_gradients_with_delta(
    X: torch.Tensor,
    y: torch.Tensor | Sequence[Target],
    model: nn.Module,
    baseline: torch.Tensor | None = None,
    num_steps: int = 32,
    batch_size: int = 16,
) -> tuple[torch.Tensor, torch.Tensor]:
    """integrated_gradients and its convergence delta (N,): sum(attr) - (f(x) - f(x'))."""
    model = require_model(model, "integrated_gradients")
    if X.ndim != 4:
        raise InvalidInputError(f"expected images (N, C, H, W), got shape {tuple(X.shape)}")
    if num_steps < 1 or batch_size < 1:
        raise InvalidInputError("num_steps and batch_size must be at least 1")
    y = target_tensor(y, model, len(X)).to(X.device)
    X = X.detach()
    baseline = torch.zeros_like(X) if baseline is None else baseline.detach().expand_as(X)
    with warnings.catch_warnings():
        # captum warns when batch_size < N and then takes N at a time; that is documented.
        warnings.simplefilter("ignore", UserWarning)
        attributions, delta = IntegratedGradients(model).attribute(
            X.clone().requires_grad_(True),
            baselines=baseline,
            target=y,
            n_steps=num_steps,
            method="riemann_middle",
            internal_batch_size=batch_size,
            return_convergence_delta=True,
        )
    return attributions.detach(), delta.detach()


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
