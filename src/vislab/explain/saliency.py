"""Vanilla saliency maps (Simonyan et al. 2014, section 3.1), as the course computes them."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from vislab.backbones.classifier import require_model
from vislab.errors import InvalidInputError
from vislab.explain.targets import Target, target_tensor


def input_gradients(X: torch.Tensor, y: torch.Tensor, model: nn.Module) -> torch.Tensor:
    """d score_y / d X for a batch in one backward pass; X is left untouched.

    X: (N, C, H, W) model input; y: (N,) class indices. Returns (N, C, H, W).
    Each image's score depends only on that image, so the gradient of the summed scores
    gives every image its own gradient.
    """
    X = X.detach().clone().requires_grad_(True)
    scores = model(X)  # (N, K)
    scores.gather(1, y.to(scores.device).view(-1, 1)).sum().backward()
    return X.grad.detach()


def compute_saliency_maps(
    X: torch.Tensor, y: torch.Tensor | Sequence[Target], model: nn.Module
) -> torch.Tensor:
    """Saliency S[n, h, w] = max over channels c of |d score_{y[n]} / d X[n, c, h, w]|.

    X: (N, C, H, W) preprocessed images; y: (N,) class indices (or names for a classifier
    with class names). Returns (N, H, W), nonnegative. X is not modified.
    """
    model = require_model(model, "compute_saliency_maps")
    if X.ndim != 4:
        raise InvalidInputError(f"expected images (N, C, H, W), got shape {tuple(X.shape)}")
    y = target_tensor(y, model, len(X))
    return input_gradients(X, y, model).abs().amax(dim=1)


def top_class_saliency(X: torch.Tensor, model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Saliency of each image's top-scoring class, and the scores, from one forward pass.

    The maps of compute_saliency_maps(X, scores.argmax(1), model) without a first forward
    pass to find the class. X: (N, C, H, W), not modified. Returns maps (N, H, W) and the
    scores (N, K).
    """
    model = require_model(model, "top_class_saliency")
    if X.ndim != 4:
        raise InvalidInputError(f"expected images (N, C, H, W), got shape {tuple(X.shape)}")
    X = X.detach().clone().requires_grad_(True)
    scores = model(X)  # (N, K)
    scores.gather(1, scores.argmax(dim=1, keepdim=True)).sum().backward()
    return X.grad.detach().abs().amax(dim=1), scores.detach()
