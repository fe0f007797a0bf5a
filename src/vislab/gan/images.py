"""Pixels in and out: the [-1, 1] scaling the GANs train in, sample grids as PNG."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vislab.atomic_files import atomic_write_bytes
from vislab.errors import InvalidInputError


def preprocess_img(x: torch.Tensor) -> torch.Tensor:
    """Pixels in [0, 1] -> [-1, 1] (the generators' tanh range)."""
    return 2 * x - 1.0


def deprocess_img(x: torch.Tensor) -> torch.Tensor:
    """Pixels in [-1, 1] -> [0, 1]."""
    return (x + 1.0) / 2.0


def image_grid(
    images: np.ndarray | torch.Tensor,
    value_range: tuple[float, float] | None = (-1.0, 1.0),
    columns: int | None = None,
    gap: int = 1,
) -> np.ndarray:
    """Tile square grey images into one uint8 mosaic.

    images: (N, D) flat with D a square, or (N, 1, H, W) / (N, H, W); value_range maps to
    black..white (None: stretch each image to its own min..max, like the course's imshow).
    Returns (rows*(H+gap)-gap, columns*(W+gap)-gap) uint8, a square grid by default.
    """
    if isinstance(images, torch.Tensor):
        images = images.detach().float().cpu().numpy()
    images = np.asarray(images, dtype=np.float32)
    if images.ndim < 2 or images.shape[0] == 0:
        raise InvalidInputError(f"expected a non-empty batch of images, got shape {images.shape}")
    flat = images.reshape(images.shape[0], -1)  # (N, D)
    side = math.isqrt(flat.shape[1])
    if side * side != flat.shape[1]:
        raise InvalidInputError(f"images of {flat.shape[1]} pixels are not square")
    if value_range is None:
        low = flat.min(axis=1, keepdims=True)
        high = np.maximum(flat.max(axis=1, keepdims=True), low + 1e-8)
    else:
        low, high = value_range
    scaled = np.clip((flat - low) / (high - low), 0.0, 1.0)
    columns = columns or math.ceil(math.sqrt(len(flat)))
    rows = math.ceil(len(flat) / columns)
    cell = side + gap
    mosaic = np.ones((rows * cell - gap, columns * cell - gap), dtype=np.float32)
    for i, image in enumerate(scaled):
        r, c = divmod(i, columns)
        mosaic[r * cell : r * cell + side, c * cell : c * cell + side] = image.reshape(side, side)
    return (mosaic * 255).round().astype(np.uint8)


def show_images(
    images: np.ndarray | torch.Tensor,
    path: str | os.PathLike,
    value_range: tuple[float, float] | None = (-1.0, 1.0),
    scale: int = 3,
    columns: int | None = None,
) -> Path:
    """Write `images` as a square grid PNG at `path` (atomic) and return the path.

    images: (N, 784) or (N, 1, 28, 28); pixels enlarged `scale` times (nearest neighbour).
    """
    mosaic = image_grid(images, value_range=value_range, columns=columns)
    picture = Image.fromarray(mosaic, mode="L")
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return atomic_write_bytes(path, buffer.getvalue())
