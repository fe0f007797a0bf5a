"""A second, independent Fashion-MNIST classifier: the judge of the CNN's class visualizations.

It must not share what the CNN learned: another architecture (two 5x5 convolutions with
average pooling and GELU, no BatchNorm, a 64-unit hidden layer; about 114k parameters, 0.46 MB
of safetensors) trained from another seed (1) by the same training loop
(`vislab data train-fmnist-judge`). Its weights ship in the package
(`weights/fmnist_judge.safetensors`), loaded without unpickling.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from vislab.backbones.classifier import ImageClassifier
from vislab.class_names import FASHION_MNIST_CLASSES
from vislab.errors import CorruptFileError, DataNotFoundError

WEIGHTS_NAME = "fmnist_judge.safetensors"
SEED = 1  # the CNN trains from seed 0


class FashionMNISTJudge(nn.Module):
    """x: (N, 1, 28, 28) in [0, 1] -> logits (N, 10); 28 -> 14 -> 7 by average pooling."""

    MEAN, STD = 0.2860, 0.3530  # the training pixels' statistics, applied inside

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=5, padding=2),
            nn.GELU(),
            nn.AvgPool2d(2),
            nn.Conv2d(16, 32, kernel_size=5, padding=2),
            nn.GELU(),
            nn.AvgPool2d(2),
            nn.Flatten(),  # (N, 32 * 7 * 7)
        )
        self.hidden = nn.Sequential(nn.Linear(32 * 7 * 7, 64), nn.GELU())
        self.classifier = nn.Linear(64, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 1, 28, 28) in [0, 1] -> (N, 64) hidden activations."""
        return self.hidden(self.body((x - self.MEAN) / self.STD))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def shipped_judge_path() -> Path:
    """The judge's weights file inside the package."""
    return Path(str(resources.files("vislab.backbones") / "weights" / WEIGHTS_NAME))


def load_fmnist_judge(
    weights: str | os.PathLike | None = None, device: str | torch.device = "cpu"
) -> ImageClassifier:
    """The judge as an ImageClassifier: 28x28 grayscale in [0, 1] (it normalises inside)."""
    path = Path(weights) if weights is not None else shipped_judge_path()
    if not path.is_file():
        raise DataNotFoundError(
            f"Fashion-MNIST judge weights not found: {path}; rebuild them with "
            "`vislab data train-fmnist-judge`"
        )
    model = FashionMNISTJudge()
    try:
        model.load_state_dict(load_file(str(path)))
    except Exception as error:  # safetensors raises its own types; name the file for the user
        raise CorruptFileError(f"{path}: not Fashion-MNIST judge weights ({error})") from error
    model.to(device).eval()
    return ImageClassifier(
        "fmnist_judge", model, FASHION_MNIST_CLASSES, 28, [0.0], [1.0], model.features
    )
