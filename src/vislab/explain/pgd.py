"""Projected gradient descent (Madry et al. 2018) with an L-infinity budget, batched.

    targeted:    x_{t+1} = clip_{B(x, eps) and [0, 1]} (x_t - step * sign(d CE(f(x_t), t) / dx))
    untargeted:  x_{t+1} = clip_{B(x, eps) and [0, 1]} (x_t + step * sign(d CE(f(x_t), y) / dx))

in pixel units (pixels in [0, 1]); the steps and the ball are mapped through the model's
per-channel normalisation. An image stops moving as soon as the attack succeeds (the model
predicts the target; or, untargeted, anything but the true class). The untargeted attack may
start from a uniformly random point of the ball (a restart).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F

from vislab.backbones.classifier import ImageClassifier, require_classifier
from vislab.errors import InvalidInputError
from vislab.explain.targets import Target, target_tensor


class PGDResult(NamedTuple):
    images: torch.Tensor  # (N, C, H, W) adversarial images, model input space
    success: torch.Tensor  # (N,) bool: the model predicts the target
    iterations: torch.Tensor  # (N,) int: steps taken until success (max_iterations if never)


def normalisation(model: ImageClassifier, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The classifier's per-channel mean and std as (1, C, 1, 1) tensors like `like`."""

    def as_tensor(values: Sequence[float]) -> torch.Tensor:
        return torch.tensor(values, dtype=like.dtype, device=like.device).view(1, -1, 1, 1)

    return as_tensor(model.mean), as_tensor(model.std)


def pgd_attack(
    X: torch.Tensor,
    target_y: torch.Tensor | Sequence[Target] | Target,
    model: ImageClassifier,
    epsilon: float,
    step_size: float | None = None,
    max_iterations: int = 100,
) -> PGDResult:
    """Targeted L-inf PGD: X (N, C, H, W) normalised images, targets (N,) or one for all.

    epsilon and step_size (default epsilon / 4) are in pixel units (1.0 = full range).
    Normalisation comes from the model, which must be an ImageClassifier.
    """
    model, y, step_size = _checked("pgd_attack", X, target_y, model, epsilon, step_size,
                                   max_iterations)  # fmt: skip
    return _pgd(X, y, model, epsilon, step_size, max_iterations, targeted=True)


def untargeted_pgd_attack(
    X: torch.Tensor,
    y: torch.Tensor | Sequence[Target],
    model: ImageClassifier,
    epsilon: float,
    step_size: float | None = None,
    max_iterations: int = 20,
    generator: torch.Generator | None = None,
) -> PGDResult:
    """Untargeted L-inf PGD away from the true classes y (N,): X (N, C, H, W) normalised.

    epsilon and step_size (default epsilon / 4) are in pixel units. With a generator the
    attack starts from a uniformly random point of the ball, else from X. `success` says the
    model no longer predicts y.
    """
    model, y, step_size = _checked("untargeted_pgd_attack", X, y, model, epsilon, step_size,
                                   max_iterations)  # fmt: skip
    start = None
    if generator is not None:
        start = (torch.rand(X.shape, generator=generator, dtype=X.dtype) * 2 - 1) * epsilon
    return _pgd(X, y, model, epsilon, step_size, max_iterations, False, start)


def _checked(name, X, y, model, epsilon, step_size, max_iterations):
    """Both attacks' argument checks -> (the classifier, y as an (N,) tensor on X's device,
    the step size with its default epsilon / 4)."""
    model = require_classifier(model, name)
    if X.ndim != 4:
        raise InvalidInputError(f"expected images (N, C, H, W), got shape {tuple(X.shape)}")
    if epsilon <= 0:
        raise InvalidInputError(f"epsilon must be positive, got {epsilon}")
    if max_iterations < 0:
        raise InvalidInputError(f"max_iterations must be at least 0, got {max_iterations}")
    step_size = epsilon / 4 if step_size is None else step_size
    return model, target_tensor(y, model, len(X)).to(X.device), step_size


def _pgd(
    X: torch.Tensor,
    y: torch.Tensor,
    model: ImageClassifier,
    epsilon: float,
    step_size: float,
    max_iterations: int,
    targeted: bool,
    start: torch.Tensor | None = None,
) -> PGDResult:
    """The loop of both attacks; y: (N,) targets (targeted) or true classes (untargeted);
    start: (N, C, H, W) offset in pixel units inside the ball, or None."""
    mean, std = normalisation(model, X)
    original = X.detach() * std + mean  # (N, C, H, W) pixels
    low, high = (original - epsilon).clamp_min(0), (original + epsilon).clamp_max(1)
    pixels = original.clone()
    if start is not None:
        pixels = torch.maximum(torch.minimum(original + start.to(X.device), high), low)
    # Targeted descends the target's cross-entropy, untargeted ascends the true class's.
    direction = -1.0 if targeted else 1.0
    success = torch.zeros(len(X), dtype=torch.bool, device=X.device)
    iterations = torch.full((len(X),), max_iterations, dtype=torch.long, device=X.device)
    for iteration in range(max_iterations + 1):
        active = (~success).nonzero().flatten()
        if len(active) == 0:
            break
        current = pixels[active].requires_grad_(True)
        scores = model((current - mean) / std)  # (A, K)
        predicted = scores.argmax(dim=1)
        reached = predicted == y[active] if targeted else predicted != y[active]
        success[active[reached]] = True
        iterations[active[reached]] = iteration
        if iteration == max_iterations:
            break
        loss = F.cross_entropy(scores, y[active], reduction="sum")
        (grad,) = torch.autograd.grad(loss, current)
        with torch.no_grad():
            moving = active[~reached]
            stepped = current[~reached] + direction * step_size * grad[~reached].sign()
            pixels[moving] = torch.maximum(torch.minimum(stepped, high[moving]), low[moving])
    return PGDResult(((pixels - mean) / std).detach(), success, iterations)
