"""Sanity checks for saliency methods (Adebayo et al. 2018): cascading model randomization.

The classifier's blocks are re-initialised from the top (logits) down, one block at a time,
keeping the earlier randomizations; after each step every method's maps are recomputed for the
same images and targets and compared with the trained model's maps by Spearman rank correlation
(mean over images). A method that explains the model must move as the model is destroyed. The
edge-detector control (Sobel magnitude of the image) ignores the model: it stays at 1.0, and
a method that stays about as high (final correlation above FLAG_ABOVE) is flagged.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr
from torch import nn

from vislab.backbones.classifier import ImageClassifier, require_classifier
from vislab.errors import InvalidInputError
from vislab.explain.attribution import METHODS, attribute

logger = logging.getLogger(__name__)

CONTROL = "edge detector (control)"
FLAG_ABOVE = 0.5  # final rank correlation above this: the maps did not move with the model


def randomization_blocks(classifier: ImageClassifier) -> list[tuple[str, list[nn.Module]]]:
    """(name, modules) from the top of the network down, the order of the cascade.

    EfficientNet-Lite: the classifier, the head, the MBConv blocks in groups of four, the
    stem. Fashion-MNIST CNN: classifier, embedding, the three conv blocks. SqueezeNet: the
    classifier, the Fire modules in pairs, the stem. Others: their top-level children.
    """
    model = classifier.model
    if classifier.name.startswith("efficientnet_lite"):
        blocks = [("logits (fc)", [model._fc]), ("head conv", [model._conv_head, model._bn1])]
        mb = list(model._blocks)
        for end in range(len(mb), 0, -4):
            start = max(0, end - 4)
            blocks.append((f"MBConv {start}-{end - 1}", mb[start:end]))
        return blocks + [("stem", [model._conv_stem, model._bn0])]
    if classifier.name == "fmnist_cnn":
        body = list(model.body)
        return [("logits", [model.classifier]), ("embedding", [model.embed])] + [
            (f"conv block {i + 1}", [body[i]]) for i in reversed(range(len(body)))
        ]
    children = [(name, [child]) for name, child in model.named_children() if _has_weights(child)]
    return list(reversed(children))


def _has_weights(module: nn.Module) -> bool:
    return any(True for _ in module.parameters())


def _reinitialise(modules: Sequence[nn.Module], generator: torch.Generator) -> None:
    """Fresh weights from each layer's own initialiser (BatchNorm: identity and (0, 1) stats)."""
    seed = int(torch.randint(2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in modules:
            for layer in module.modules():
                if hasattr(layer, "reset_parameters"):
                    layer.reset_parameters()
                if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                    layer.reset_running_stats()


def edge_maps(classifier: ImageClassifier, X: torch.Tensor) -> torch.Tensor:
    """Sobel gradient magnitude of the grey image: X (N, C, H, W) -> (N, H, W), model-free."""
    grey = classifier.to_pixels(X.detach()).mean(dim=1, keepdim=True)  # (N, 1, H, W)
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=X.dtype, device=X.device)
    kernels = torch.stack([kx, kx.T])[:, None]  # (2, 1, 3, 3)
    gradients = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), kernels)  # (N, 2, H, W)
    return gradients.square().sum(dim=1).sqrt()


def method_maps(
    classifier: ImageClassifier,
    X: torch.Tensor,
    y: torch.Tensor,
    methods: Sequence[str],
    batch_size: int = 25,
    **options,
) -> dict[str, torch.Tensor]:
    """Every method's maps (N, H, W) for X (N, C, H, W), in chunks of batch_size images."""
    maps = {}
    for method in methods:
        chunks = [
            attribute(classifier, X[i : i + batch_size], y[i : i + batch_size], method, **options)
            for i in range(0, len(X), batch_size)
        ]
        maps[method] = torch.cat([chunk.maps for chunk in chunks])
    maps[CONTROL] = edge_maps(classifier, X)
    return maps


def rank_correlations(before: torch.Tensor, after: torch.Tensor) -> np.ndarray:
    """Spearman rank correlation of each image's two maps: (N, H, W) twice -> (N,).

    A constant map (no ranking at all) correlates 0 with anything."""
    values = []
    for a, b in zip(before.flatten(1).numpy(), after.flatten(1).numpy(), strict=True):
        constant = np.ptp(a) == 0 or np.ptp(b) == 0
        values.append(0.0 if constant else float(spearmanr(a, b).statistic))
    return np.array(values)


@dataclass
class SanityResult:
    model: str
    steps: list[str]  # "trained", then the block names in the order they were randomized
    correlations: dict[str, list[float]] = field(default_factory=dict)  # method -> per step
    spread: dict[str, list[float]] = field(default_factory=dict)  # std over images per step
    maps: dict[str, torch.Tensor] = field(default_factory=dict)  # the trained model's (N, H, W)

    def flagged(self) -> list[str]:
        """Methods (not the control) whose maps stayed put as the model was destroyed."""
        return [m for m, c in self.correlations.items() if m != CONTROL and c[-1] > FLAG_ABOVE]


def cascading_randomization(
    classifier: ImageClassifier,
    X: torch.Tensor,
    y: torch.Tensor,
    methods: Sequence[str] = METHODS,
    seed: int = 0,
    **options,
) -> SanityResult:
    """Cascading randomization of `classifier` (left untouched: a copy is randomized).

    X: (N, C, H, W) normalised images; y: (N,) the targets the maps explain, held fixed.
    options go to `attribute` (num_samples, num_steps, batch_size).
    """
    classifier = require_classifier(classifier, "cascading_randomization")
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise InvalidInputError(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    y = torch.as_tensor(y).long()
    trained = method_maps(classifier, X, y, methods, **options)
    result = SanityResult(classifier.name, ["trained"], maps=trained)
    for method in trained:
        result.correlations[method], result.spread[method] = [1.0], [0.0]
    randomized = copy.deepcopy(classifier)
    generator = torch.Generator().manual_seed(seed)
    for name, modules in randomization_blocks(randomized):
        _reinitialise(modules, generator)
        logger.info("sanity check: randomized %s", name)
        maps = method_maps(randomized, X, y, methods, **options)
        result.steps.append(name)
        for method, after in maps.items():
            r = rank_correlations(trained[method], after)
            result.correlations[method].append(float(r.mean()))
            result.spread[method].append(float(r.std()))
    return result
