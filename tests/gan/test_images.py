"""Pixel scaling and the PNG sample grids."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from vislab.errors import InvalidInputError
from vislab.gan import deprocess_img, image_grid, preprocess_img, show_images


def test_preprocess_and_deprocess_are_inverse():
    x = torch.rand(4, 784)
    assert preprocess_img(x).min() >= -1 and preprocess_img(x).max() <= 1
    assert torch.allclose(deprocess_img(preprocess_img(x)), x, atol=1e-7)


def test_grid_is_square_and_maps_the_range():
    images = -np.ones((5, 784), dtype=np.float32)
    images[0] = 1.0
    grid = image_grid(images, gap=1)
    assert grid.shape == (2 * 29 - 1, 3 * 29 - 1) and grid.dtype == np.uint8
    assert (grid[:28, :28] == 255).all() and (grid[:28, 29:57] == 0).all()
    per_image = image_grid(np.linspace(3, 5, 784)[None], value_range=None)
    assert per_image.min() == 0 and per_image.max() == 255


def test_show_images_writes_a_png(tmp_path):
    path = show_images(torch.zeros(16, 1, 28, 28), tmp_path / "grid.png", scale=2)
    with Image.open(path) as picture:
        assert picture.size == ((4 * 29 - 1) * 2, (4 * 29 - 1) * 2)
    with pytest.raises(InvalidInputError, match="square"):
        image_grid(np.zeros((2, 10)))
