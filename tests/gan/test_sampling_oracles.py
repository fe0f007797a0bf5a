"""Interpolation paths by their definition, and a saved generator that reproduces the trained
one exactly: the same images from the same noise, and the same PNGs from `sample_checkpoint`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from vislab.gan import GanConfig, load_generator, sample_noise, show_images, train_gan
from vislab.gan.sampling import generate, interpolation_noise, sample_checkpoint


@pytest.mark.parametrize(("rows", "steps"), [(1, 2), (3, 5), (4, 10)])
def test_interpolation_runs_evenly_from_one_draw_to_the_next(rows, steps):
    path = interpolation_noise(6, rows=rows, steps=steps, seed=3).view(rows, steps, 6)
    draws = torch.Generator().manual_seed(3)
    start, end = sample_noise(rows, 6, generator=draws), sample_noise(rows, 6, generator=draws)
    assert not torch.allclose(start, end)
    assert torch.equal(path[:, 0], start)
    torch.testing.assert_close(path[:, -1], end, rtol=0, atol=1e-6)
    for k in range(steps):
        expected = start + (end - start) * k / (steps - 1)
        torch.testing.assert_close(path[:, k], expected, rtol=0, atol=1e-6)


def test_interpolation_depends_on_the_seed():
    assert not torch.allclose(interpolation_noise(4, seed=0), interpolation_noise(4, seed=1))


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_the_saved_generator_reproduces_the_trained_one(tmp_path):
    images = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    config = GanConfig(model="dc", epochs=1, batch_size=8, noise_dim=8, show_every=10,
                       num_train=16, seed=2)  # fmt: skip
    run = train_gan(images, config, tmp_path / "run")
    trained = run.generator
    loaded, loaded_config = load_generator(run.checkpoint)
    assert loaded_config == config
    noise = sample_noise(12, 8, generator=torch.Generator().manual_seed(5))
    assert torch.equal(generate(loaded, noise), generate(trained, noise))
    # BatchNorm statistics moved during training, so eval-mode images depend on them.
    norms = [m for m in trained.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert norms and all(float(m.running_mean.abs().max()) > 0 for m in norms)

    written = sample_checkpoint(run.checkpoint, tmp_path / "samples.png", num=9, interpolate=True,
                                seed=7)  # fmt: skip
    assert [p.name for p in written] == ["samples.png", "samples_interpolation.png"]
    grid_noise = sample_noise(9, 8, generator=torch.Generator().manual_seed(7))
    expected_grid = show_images(generate(trained, grid_noise), tmp_path / "expected.png")
    np.testing.assert_array_equal(pixels(written[0]), pixels(expected_grid))
    strip = generate(trained, interpolation_noise(8, seed=7))
    expected_strip = show_images(strip, tmp_path / "expected_strip.png", columns=10)
    np.testing.assert_array_equal(pixels(written[1]), pixels(expected_strip))
