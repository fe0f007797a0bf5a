"""Robust accuracy under untargeted L-inf PGD over a ladder of budgets, and transfer.

An image counts as robust at budget eps only if the model classifies it correctly and no
attack found it wrong: every restart at eps (the first from the clean image, the others from
random points of the ball), and every smaller budget of the ladder (the ball of a smaller eps
lies inside that of a larger one, so its adversarial image is also one for eps). That per-image
worst case makes the curve fall monotonically by construction, as the true robust accuracy does.

Transfer: the share of one model's successful adversarial images that also fool another
(judged at the other model's own preprocessing of the same pixels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import torch
import torch.nn.functional as F

from vislab.backbones.classifier import ImageClassifier, require_classifier
from vislab.errors import InvalidInputError
from vislab.explain.pgd import untargeted_pgd_attack


@dataclass
class RobustnessCurve:
    model: str
    epsilons: list[float]  # pixel units (1.0 = full range); the first is 0 (clean)
    accuracy: list[float]  # per-image worst case at each budget
    restarts: int
    iterations: int
    adversarial: torch.Tensor  # (N, C, H, W) the first fooling image found (or the clean one)
    fooled_at: torch.Tensor  # (N,) index into epsilons of the first fooling budget, -1 if none


def robustness_curve(
    classifier: ImageClassifier,
    X: torch.Tensor,
    y: torch.Tensor | Sequence[int],
    epsilons: Sequence[float],
    restarts: int = 2,
    iterations: int = 20,
    batch_size: int = 250,
    seed: int = 0,
) -> RobustnessCurve:
    """Accuracy of `classifier` on X (N, C, H, W) normalised, labels y (N,), under PGD with
    each budget of `epsilons` (increasing, pixel units), `restarts` attacks per budget."""
    classifier = require_classifier(classifier, "robustness_curve")
    ladder = [float(e) for e in epsilons]
    if not ladder or ladder[0] <= 0 or any(b <= a for a, b in pairwise(ladder)):
        raise InvalidInputError(f"epsilons must be positive and increasing, got {ladder}")
    if restarts < 1 or iterations < 1 or batch_size < 1:
        raise InvalidInputError("restarts, iterations and batch_size must be at least 1")
    y = torch.as_tensor(y).long()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        correct = torch.cat(
            [classifier(X[i : i + batch_size]).argmax(1) for i in range(0, len(X), batch_size)]
        ).eq(y)
    robust = correct.clone()
    adversarial = X.detach().clone()
    fooled_at = torch.full((len(X),), -1, dtype=torch.long)
    accuracy = [float(correct.float().mean())]
    for level, epsilon in enumerate(ladder, start=1):
        for restart in range(restarts):
            attacked = robust.nonzero().flatten()  # only images nothing has fooled yet
            for chunk in attacked.split(batch_size):
                result = untargeted_pgd_attack(
                    X[chunk],
                    y[chunk],
                    classifier,
                    epsilon,
                    max_iterations=iterations,
                    generator=generator if restart > 0 else None,
                )
                fooled = chunk[result.success]
                robust[fooled] = False
                adversarial[fooled] = result.images[result.success]
                fooled_at[fooled] = level
        accuracy.append(float(robust.float().mean()))
    return RobustnessCurve(
        classifier.name, [0.0, *ladder], accuracy, restarts, iterations, adversarial, fooled_at
    )


def transfer_rate(
    source: ImageClassifier,
    target: ImageClassifier,
    X_adversarial: torch.Tensor,
    y: torch.Tensor,
) -> float:
    """Share of adversarial images (source's input space, (N, C, H, W), all fooling source)
    that the target model also gets wrong; pixels are resized to target's input size."""
    source = require_classifier(source, "transfer_rate")
    target = require_classifier(target, "transfer_rate")
    if len(X_adversarial) == 0:
        raise InvalidInputError("no adversarial images to transfer")
    pixels = source.to_pixels(X_adversarial).clamp(0, 1)
    size = target.input_size
    if pixels.shape[-1] != size:
        pixels = F.interpolate(pixels, size=(size, size), mode="bilinear", align_corners=False)
    with torch.no_grad():
        predicted = target(target.normalise(pixels)).argmax(dim=1)
    return float((predicted != torch.as_tensor(y)).float().mean())
