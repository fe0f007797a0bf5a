"""The project's own Fashion-MNIST CNN: one small network shared by three tasks.

The captioning scene builder takes its `.features`, the explain task explains it, and the
GAN task measures FID in its feature space. Weights ship in the package as safetensors
(`weights/fmnist_cnn.safetensors`) and are rebuilt by `vislab data train-fmnist-cnn`.
"""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from vislab.backbones.classifier import ImageClassifier
from vislab.class_names import FASHION_MNIST_CLASSES
from vislab.errors import CorruptFileError, DataNotFoundError

FEATURE_DIM = 256
WEIGHTS_NAME = "fmnist_cnn.safetensors"


def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class FashionMNISTCNN(nn.Module):
    """Three conv blocks (32, 64, 128 channels; 28 -> 14 -> 7 -> 3) and two linear layers.

    Input x: (N, 1, 28, 28) floats in [0, 1]; output logits (N, 10). `features(x)` gives
    the penultimate activations (N, FEATURE_DIM), after the ReLU.
    """

    # Normalisation of the Fashion-MNIST training pixels, applied inside the network so
    # that every caller passes plain [0, 1] images.
    MEAN = 0.2860
    STD = 0.3530

    def __init__(self, num_classes: int = 10, dropout: float = 0.3):
        super().__init__()
        self.body = nn.Sequential(_conv_block(1, 32), _conv_block(32, 64), _conv_block(64, 128))
        self.embed = nn.Sequential(
            nn.Flatten(), nn.Linear(128 * 3 * 3, FEATURE_DIM), nn.ReLU(inplace=True)
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(FEATURE_DIM, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 1, 28, 28) in [0, 1] -> (N, FEATURE_DIM) penultimate features."""
        if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
            raise ValueError(f"expected images (N, 1, 28, 28), got {tuple(x.shape)}")
        return self.embed(self.body((x - self.MEAN) / self.STD))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 1, 28, 28) in [0, 1] -> logits (N, 10)."""
        return self.classifier(self.dropout(self.features(x)))


def shipped_weights_path() -> Path:
    """Path of the weights file that ships inside the package."""
    return Path(str(resources.files("vislab.backbones") / "weights" / WEIGHTS_NAME))


def load_fmnist_cnn(
    weights: str | os.PathLike | None = None, device: str | torch.device = "cpu"
) -> FashionMNISTCNN:
    """Return the trained Fashion-MNIST CNN in eval mode (shipped weights unless `weights`)."""
    path = Path(weights) if weights is not None else shipped_weights_path()
    if not path.is_file():
        raise DataNotFoundError(
            f"Fashion-MNIST CNN weights not found: {path}; rebuild them with "
            "`vislab data train-fmnist-cnn`"
        )
    model = FashionMNISTCNN()
    try:
        state = load_file(str(path))
        model.load_state_dict(state)
    except Exception as error:  # safetensors raises its own types; name the file for the user
        raise CorruptFileError(f"{path}: not valid Fashion-MNIST CNN weights ({error})") from error
    return model.to(device).eval()


def load_fmnist_classifier(
    weights: str | os.PathLike | None = None, device: str | torch.device = "cpu"
) -> ImageClassifier:
    """The project's Fashion-MNIST CNN: 28x28 grayscale in [0, 1] (it normalises inside)."""
    model = load_fmnist_cnn(weights=weights, device=device)
    return ImageClassifier(
        "fmnist_cnn", model, FASHION_MNIST_CLASSES, 28, [0.0], [1.0], model.features
    )


def weights_fingerprint(model: nn.Module) -> str:
    """SHA-256 (hex, first 16 digits) of a model's parameters and buffers, by name: what a
    cache of the model's outputs records, so that other weights rebuild it."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
