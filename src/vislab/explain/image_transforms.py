"""The course's image helpers: SqueezeNet normalisation, preprocess/deprocess, blur, jitter.

These keep the course's semantics for a plain `model` with SqueezeNet normalisation; an
`ImageClassifier` carries its own normalisation (`classifier.preprocess/deprocess`).
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from scipy.ndimage import gaussian_filter1d

from vislab.backbones.squeezenet import SQUEEZENET_MEAN as _MEAN
from vislab.backbones.squeezenet import SQUEEZENET_STD as _STD
from vislab.errors import InvalidInputError

SQUEEZENET_MEAN = np.array(_MEAN, dtype=np.float32)
SQUEEZENET_STD = np.array(_STD, dtype=np.float32)


def preprocess(img: Image.Image, size: int = 224) -> torch.Tensor:
    """A PIL image -> (1, 3, H', W') with SqueezeNet normalisation.

    As the course's `T.Resize(size)`: the shorter side becomes `size`, the aspect ratio stays.
    """
    if not isinstance(img, Image.Image):
        raise InvalidInputError(f"expected a PIL image, got {type(img).__name__}")
    img = img.convert("RGB")
    scale = size / min(img.size)
    width, height = round(img.width * scale), round(img.height * scale)
    img = img.resize((max(width, 1), max(height, 1)), Image.Resampling.BILINEAR)
    pixels = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
    mean = torch.from_numpy(SQUEEZENET_MEAN).view(3, 1, 1)
    std = torch.from_numpy(SQUEEZENET_STD).view(3, 1, 1)
    return ((pixels - mean) / std)[None]  # (1, 3, H', W')


def rescale(x: torch.Tensor) -> torch.Tensor:
    """Stretch x linearly so that its minimum is 0 and its maximum 1."""
    low, high = x.min(), x.max()
    return (x - low) / (high - low)


def deprocess(img: torch.Tensor, should_rescale: bool = True) -> Image.Image:
    """img: (1, 3, H, W) SqueezeNet-normalised -> PIL image (pixels clamped to [0, 1])."""
    x = img.detach().float().cpu()[0]
    x = x * torch.from_numpy(SQUEEZENET_STD).view(3, 1, 1)
    x = x + torch.from_numpy(SQUEEZENET_MEAN).view(3, 1, 1)
    if should_rescale:
        x = rescale(x)
    array = (x.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    return Image.fromarray(array)


def blur_image(X: torch.Tensor, sigma: float = 1) -> torch.Tensor:
    """Gaussian blur over H and W, in place; X: (N, C, H, W). Returns X."""
    blurred = gaussian_filter1d(X.detach().cpu().numpy(), sigma, axis=2)
    blurred = gaussian_filter1d(blurred, sigma, axis=3)
    X.data.copy_(torch.from_numpy(blurred).to(X))
    return X


def jitter(X: torch.Tensor, ox: int, oy: int) -> torch.Tensor:
    """Roll X: (N, C, H, W) by ox columns and oy rows (pixels wrap around); a new tensor."""
    return torch.roll(X, shifts=(oy, ox), dims=(2, 3))
