"""SqueezeNet 1.1, the course's model, with torchvision-compatible state-dict keys.

The ImageNet weights cannot be downloaded here; they load from `weights=PATH` or from torch's
hub cache (`<torch hub dir>/checkpoints/squeezenet1_1-*.pth`, where torchvision puts them)
when that file exists. Inputs use the course's normalisation (SQUEEZENET_MEAN / STD).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vislab.backbones.classifier import ImageClassifier
from vislab.checkpoints import first_line, load_plain
from vislab.class_names import imagenet_class_names
from vislab.errors import CorruptFileError, DataNotFoundError

INPUT_SIZE = 224
FEATURE_DIM = 512
NUM_PARAMETERS = 1_235_496
SQUEEZENET_MEAN = (0.485, 0.456, 0.406)
SQUEEZENET_STD = (0.229, 0.224, 0.225)
WEIGHTS_GLOB = "squeezenet1_1-*.pth"


class Fire(nn.Module):
    """Squeeze (1x1) then expand with 1x1 and 3x3 convolutions, concatenated on channels."""

    def __init__(self, in_channels: int, squeeze: int, expand1x1: int, expand3x3: int):
        super().__init__()
        self.squeeze = nn.Conv2d(in_channels, squeeze, kernel_size=1)
        self.squeeze_activation = nn.ReLU()
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, kernel_size=1)
        self.expand1x1_activation = nn.ReLU()
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat(
            [
                self.expand1x1_activation(self.expand1x1(x)),
                self.expand3x3_activation(self.expand3x3(x)),
            ],
            dim=1,
        )


class SqueezeNet(nn.Module):
    """SqueezeNet 1.1 (Iandola et al. 2016): x (N, 3, H, W) -> logits (N, num_classes)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        pool = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)
        # Module indices match torchvision's, so its state dicts load unchanged.
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, stride=2),
            nn.ReLU(),
            pool,
            Fire(64, 16, 64, 64),
            Fire(128, 16, 64, 64),
            pool,
            Fire(128, 32, 128, 128),
            Fire(256, 32, 128, 128),
            pool,
            Fire(256, 48, 192, 192),
            Fire(384, 48, 192, 192),
            Fire(384, 64, 256, 256),
            Fire(512, 64, 256, 256),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Conv2d(512, num_classes, kernel_size=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d((1, 1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.classifier(self.features(x)), 1)  # (N, K, 1, 1) -> (N, K)


def build_squeezenet1_1(num_classes: int = 1000) -> SqueezeNet:
    """SqueezeNet 1.1, randomly initialised (1,235,496 parameters for 1000 classes)."""
    return SqueezeNet(num_classes)


def hub_cache_dir() -> Path:
    """Where torchvision caches downloaded weights (honours TORCH_HOME)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def find_squeezenet_weights() -> Path | None:
    """The cached torchvision SqueezeNet 1.1 weights file, if there is one."""
    found = sorted(hub_cache_dir().glob(WEIGHTS_GLOB))
    return found[0] if found else None


def load_squeezenet1_1(
    weights: str | os.PathLike | None = None, device: str | torch.device = "cpu"
) -> ImageClassifier:
    """Pretrained SqueezeNet 1.1 as an ImageClassifier (features (N, 512))."""
    path = Path(weights) if weights is not None else find_squeezenet_weights()
    if path is None or not path.is_file():
        raise DataNotFoundError(
            f"SqueezeNet 1.1 weights not found{f': {path}' if path else ''}; put torchvision's "
            f"squeezenet1_1-b8a52dc0.pth in {hub_cache_dir()} or pass weights=PATH "
            "(--weights PATH); vislab never downloads it"
        )
    model = build_squeezenet1_1()
    try:
        model.load_state_dict(load_plain(path, map_location="cpu"))
    except Exception as error:  # torch raises several types; name the file for the user
        raise CorruptFileError(
            f"{path}: not SqueezeNet 1.1 weights ({first_line(error)})"
        ) from error
    model.to(device)

    def features(x: torch.Tensor) -> torch.Tensor:
        return F.adaptive_avg_pool2d(model.features(x), 1).flatten(1)  # (N, 512)

    return ImageClassifier(
        "squeezenet1_1",
        model,
        imagenet_class_names(),
        INPUT_SIZE,
        SQUEEZENET_MEAN,
        SQUEEZENET_STD,
        features,
    )
