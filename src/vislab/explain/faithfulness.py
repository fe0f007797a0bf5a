"""Faithfulness of saliency maps: deletion and insertion AUC (Petsiuk et al. 2018).

Deletion: pixels are set to black in the order a map ranks them, most important first, in
`num_steps` equal slices; the target class probability is tracked and the area under that
curve (x: fraction of pixels changed, 0..1, trapezoid rule) is the score: lower is better.
Insertion starts from black and puts the pixels back in the same order: higher is better.
A random map on the same images is the baseline every method must beat. Ties in a map (the
zeros of a ReLU'd Grad-CAM) are broken at random.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from vislab.backbones.classifier import ImageClassifier, require_classifier
from vislab.errors import InvalidInputError

RANDOM = "random map (baseline)"


def pixel_order(maps: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """maps (N, H, W) -> (N, H*W) pixel indices, most important first, ties broken at random."""
    flat = maps.detach().flatten(1).double()
    span = (flat.amax(1, keepdim=True) - flat.amin(1, keepdim=True)).clamp_min(1e-30)
    jitter = torch.rand(flat.shape, generator=generator, dtype=torch.float64) * 1e-9 * span
    return torch.argsort(flat + jitter, dim=1, descending=True)


def probability_curves(
    classifier: ImageClassifier,
    X: torch.Tensor,
    y: torch.Tensor,
    order: torch.Tensor,
    mode: str,
    num_steps: int = 16,
    batch_size: int = 64,
) -> torch.Tensor:
    """Target probability after each slice: (N, num_steps + 1), the first point is 0 changed.

    X: (N, C, H, W) normalised; order: (N, H*W) from pixel_order; mode "deletion" or
    "insertion". Variants go through the model about batch_size at a time.
    """
    if mode not in ("deletion", "insertion"):
        raise InvalidInputError(f"mode must be deletion or insertion, got {mode!r}")
    N, C, H, W = X.shape
    black = classifier.normalise(torch.zeros_like(X[:1]))  # (1, C, H, W)
    counts = torch.linspace(0, H * W, num_steps + 1).round().long()  # pixels changed per point
    # rank[n, p]: position of pixel p in image n's order; changed iff rank < count.
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(H * W).expand(N, -1))
    per_pass = max(1, batch_size // (num_steps + 1))  # images whose variants share a pass
    curves = []
    with torch.no_grad():
        for start in range(0, N, per_pass):
            images = slice(start, min(start + per_pass, N))
            changed = rank[images, None] < counts[None, :, None]  # (B, S, H*W)
            mask = changed.view(-1, 1, H, W).to(X.dtype)  # (B*S, 1, H, W)
            x = X[images].repeat_interleave(num_steps + 1, dim=0)  # (B*S, C, H, W)
            if mode == "deletion":
                variants = x * (1 - mask) + black * mask
            else:
                variants = black * (1 - mask) + x * mask
            targets = y[images].repeat_interleave(num_steps + 1)
            probabilities = classifier(variants).softmax(dim=1)  # (B*S, K)
            curves.append(probabilities.gather(1, targets[:, None]).view(-1, num_steps + 1))
    return torch.cat(curves)


def area_under(curves: torch.Tensor) -> torch.Tensor:
    """Trapezoid AUC over x in [0, 1]: curves (N, S+1) -> (N,)."""
    steps = curves.shape[1] - 1
    return (curves.sum(dim=1) - (curves[:, 0] + curves[:, -1]) / 2) / steps


@dataclass
class FaithfulnessRow:
    method: str
    deletion: float  # mean AUC over images, lower is better
    insertion: float  # higher is better
    deletion_vs_random: float  # random's deletion AUC minus this one's (> 0: beats random)
    insertion_vs_random: float  # this one's insertion AUC minus random's (> 0: beats random)

    @property
    def beats_random(self) -> bool:
        return self.deletion_vs_random > 0 and self.insertion_vs_random > 0


def faithfulness_table(
    classifier: ImageClassifier,
    X: torch.Tensor,
    y: torch.Tensor,
    maps: Mapping[str, torch.Tensor],
    num_steps: int = 16,
    seed: int = 0,
    batch_size: int = 64,
) -> list[FaithfulnessRow]:
    """Deletion and insertion AUC for each method's maps (N, H, W), and the random baseline
    (the last row). X: (N, C, H, W) normalised, y: (N,) targets."""
    classifier = require_classifier(classifier, "faithfulness_table")
    if num_steps < 1:
        raise InvalidInputError(f"num_steps must be at least 1, got {num_steps}")
    y = torch.as_tensor(y).long()
    generator = torch.Generator().manual_seed(seed)
    random_map = torch.rand(X.shape[0], *X.shape[2:], generator=generator)
    scores = {}
    for method, method_map in {**maps, RANDOM: random_map}.items():
        if method_map.shape != (X.shape[0], *X.shape[2:]):
            raise InvalidInputError(
                f"{method}: maps have shape {tuple(method_map.shape)}, expected "
                f"{(X.shape[0], *X.shape[2:])}"
            )
        order = pixel_order(method_map, generator)
        deletion = area_under(
            probability_curves(classifier, X, y, order, "deletion", num_steps, batch_size)
        )
        insertion = area_under(
            probability_curves(classifier, X, y, order, "insertion", num_steps, batch_size)
        )
        scores[method] = (float(deletion.mean()), float(insertion.mean()))
    base_deletion, base_insertion = scores[RANDOM]
    return [
        FaithfulnessRow(m, d, i, base_deletion - d, i - base_insertion)
        for m, (d, i) in scores.items()
    ]
