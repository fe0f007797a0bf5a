"""The pretrained classifiers by name: `load_backbone(name)` and the names it knows.

Apart from `classifier.py` so that the model files can import `ImageClassifier` and this
module can import them, with no cycle between the two.
"""

from __future__ import annotations

import os

import torch

from vislab.backbones.classifier import ImageClassifier
from vislab.backbones.efficientnet_lite0 import load_efficientnet_lite0
from vislab.backbones.efficientnet_lite1 import load_efficientnet_lite1
from vislab.backbones.fmnist_cnn import load_fmnist_classifier
from vislab.backbones.fmnist_judge import load_fmnist_judge
from vislab.backbones.squeezenet import load_squeezenet1_1
from vislab.errors import InvalidInputError

_LOADERS = {
    "efficientnet_lite0": load_efficientnet_lite0,
    "efficientnet_lite1": load_efficientnet_lite1,
    "squeezenet1_1": load_squeezenet1_1,
    "fmnist_cnn": load_fmnist_classifier,
    "fmnist_judge": load_fmnist_judge,
}
BACKBONES = tuple(_LOADERS)


def load_backbone(
    name: str, weights: str | os.PathLike | None = None, device: str | torch.device = "cpu"
) -> ImageClassifier:
    """Load a pretrained classifier by name (one of BACKBONES).

    `weights` overrides the default weights file; nothing downloads.
    """
    if name not in _LOADERS:
        raise InvalidInputError(f"unknown model {name!r}; choose from {', '.join(BACKBONES)}")
    return _LOADERS[name](weights=weights, device=device)
