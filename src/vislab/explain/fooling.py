"""Fooling images (Szegedy et al. 2014), as the course makes them.

Gradient ascent on the target class score with the gradient normalised to unit L2 norm and
step 1, until the model predicts the target. The course loops until then; here the loop is
bounded by `max_iterations` and a failure raises FoolingError saying how far it got.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import torch
from torch import nn

from vislab.backbones.classifier import require_model
from vislab.errors import InvalidInputError, VislabError
from vislab.explain.targets import Target, class_names_of, target_index

logger = logging.getLogger(__name__)


class FoolingError(VislabError):
    """The model still did not predict the target after max_iterations; `.image` is the last."""

    def __init__(self, message: str, image: torch.Tensor, iterations: int):
        super().__init__(message)
        self.image = image
        self.iterations = iterations


class FoolingResult(NamedTuple):
    image: torch.Tensor  # (1, C, H, W) fooling image, model input space
    success: bool
    iterations: int  # gradient steps taken


def fool_image(
    X: torch.Tensor,
    target_y: Target,
    model: nn.Module,
    max_iterations: int = 100,
    learning_rate: float = 1.0,
) -> FoolingResult:
    """Normalised-gradient ascent on score_target from X (1, C, H, W); X is not modified."""
    model = require_model(model, "make_fooling_image")
    if X.ndim != 4 or len(X) != 1:
        raise InvalidInputError(f"expected one image (1, C, H, W), got shape {tuple(X.shape)}")
    if max_iterations < 0:
        raise InvalidInputError(f"max_iterations must be at least 0, got {max_iterations}")
    target = target_index(target_y, model)
    X_fooling = X.detach().clone().requires_grad_(True)
    for iteration in range(max_iterations + 1):
        scores = model(X_fooling)  # (1, K)
        if scores.argmax(dim=1).item() == target:
            logger.debug("fooled after %d iterations", iteration)
            return FoolingResult(X_fooling.detach(), True, iteration)
        if iteration == max_iterations:
            break
        scores[0, target].backward()
        with torch.no_grad():
            g = X_fooling.grad
            X_fooling += learning_rate * g / g.norm().clamp_min(1e-12)
        X_fooling.grad = None
    return FoolingResult(X_fooling.detach(), False, max_iterations)


def make_fooling_image(
    X: torch.Tensor,
    target_y: Target,
    model: nn.Module,
    max_iterations: int = 100,
    learning_rate: float = 1.0,
) -> torch.Tensor:
    """A fooling image (1, C, H, W) close to X (1, C, H, W) that `model` classifies as target_y.

    Raises FoolingError (with the last image) when max_iterations steps were not enough.
    """
    result = fool_image(X, target_y, model, max_iterations, learning_rate)
    if result.success:
        return result.image
    target = target_index(target_y, model)
    with torch.no_grad():
        scores = model(result.image)[0]
    names = class_names_of(model)
    predicted = int(scores.argmax())
    label = (lambda i: repr(names[i])) if names else (lambda i: f"class {i}")
    raise FoolingError(
        f"the model still predicts {label(predicted)} (score {scores[predicted]:.2f}) instead "
        f"of {label(target)} (score {scores[target]:.2f}) after {max_iterations} iterations; "
        "allow more iterations or pick a closer target",
        result.image,
        max_iterations,
    )
