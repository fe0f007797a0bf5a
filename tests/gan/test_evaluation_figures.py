"""The memorisation grid (a sample, a gap, its nearest training images), histogram and chart."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from vislab.gan.evaluation import memorisation_check
from vislab.gan.evaluation_figures import class_balance_chart, distance_histogram, memorisation_grid


def test_memorisation_grid_puts_each_sample_beside_its_nearest_training_images(tmp_path):
    rng = torch.Generator().manual_seed(0)
    train = torch.rand(40, 1, 28, 28, generator=rng)
    samples = torch.cat([train[[5, 17]], torch.rand(6, 1, 28, 28, generator=rng)])  # 2 copies
    flat = lambda x: x.flatten(1)  # noqa: E731 (pixels as features: the copies are exact)
    check = memorisation_check(flat(samples), flat(train), flat(train[:10] * 0.5), k=3)
    path = memorisation_grid(samples, train, check, tmp_path / "grid.png", rows=4)
    with Image.open(path) as picture:
        assert picture.size == (2 * (5 * 29 - 1), 2 * (4 * 29 - 1))  # 1 + gap + 3 columns
        pixels = torch.from_numpy(np.asarray(picture, dtype=np.float32) / 255)

    def cell(row, column):  # undo the 2x scale: every other pixel of a 56 x 56 cell
        return pixels[row * 58 : row * 58 + 56 : 2, column * 58 : column * 58 + 56 : 2]

    # the two copies come first (distance 0) and each is followed by itself from train
    assert torch.allclose(cell(0, 0), cell(0, 2), atol=1 / 255)
    assert torch.allclose(cell(1, 0), cell(1, 2), atol=1 / 255)
    assert torch.all(cell(0, 1) == 1.0)  # the blank separator


def test_histogram_and_class_chart_are_written(tmp_path):
    check = memorisation_check(torch.randn(50, 4), torch.randn(80, 4), torch.randn(30, 4))
    histogram = distance_histogram(check, tmp_path / "d.png")
    chart = class_balance_chart([5, 0, 1, 2, 3, 4, 5, 6, 7, 8], tmp_path / "c.png")
    for path in (histogram, chart):
        with Image.open(path) as picture:
            assert picture.format == "PNG" and picture.size[0] > 300
