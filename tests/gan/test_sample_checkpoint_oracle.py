"""`sample_checkpoint` and `interpolation_noise` against their documented defaults and
errors: a call without the options writes exactly what the grid of 64 seed-0 draws from the
raw generator looks like, the EMA weights are the ones sampled when asked for, the device
reaches the loader, and bad sizes fail with vislab's own message (survivors of mutation
testing)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from vislab.errors import InvalidInputError
from vislab.gan import GanConfig, load_generator, sample_noise, sampling, show_images, train_gan
from vislab.gan.sampling import generate, interpolation_noise, sample_checkpoint

NOISE = 6


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny fc run that keeps an EMA generator (decay 0.5, so it differs from the raw one)."""
    images = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    config = GanConfig(model="fc", epochs=1, batch_size=8, noise_dim=NOISE, show_every=10,
                       num_train=16, seed=1, ema_decay=0.5)  # fmt: skip
    return train_gan(images, config, tmp_path_factory.mktemp("run")).checkpoint


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def expected_grid(G, num, seed, path, columns=None) -> np.ndarray:
    noise = sample_noise(num, NOISE, generator=torch.Generator().manual_seed(seed))
    return pixels(show_images(generate(G, noise), path, columns=columns))


def test_the_defaults_are_64_raw_samples_from_seed_0_and_no_strip(checkpoint, tmp_path):
    written = sample_checkpoint(checkpoint, tmp_path / "grid.png")
    assert written == [tmp_path / "grid.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]
    raw, _ = load_generator(checkpoint, weights="raw")
    expected = expected_grid(raw, 64, 0, tmp_path / "expected" / "grid.png")
    # an 8 x 8 grid of 28-pixel images with 1-pixel gaps, 3x enlarged
    assert pixels(written[0]).shape == ((8 * 29 - 1) * 3, (8 * 29 - 1) * 3)
    np.testing.assert_array_equal(pixels(written[0]), expected)


def test_the_ema_weights_are_sampled_when_asked_for(checkpoint, tmp_path):
    written = sample_checkpoint(checkpoint, tmp_path / "ema.png", num=4, weights="ema")
    ema, _ = load_generator(checkpoint, weights="ema")
    raw, _ = load_generator(checkpoint, weights="raw")
    np.testing.assert_array_equal(
        pixels(written[0]), expected_grid(ema, 4, 0, tmp_path / "expected_ema.png")
    )
    assert not np.array_equal(
        pixels(written[0]), expected_grid(raw, 4, 0, tmp_path / "expected_raw.png")
    )


def test_the_device_reaches_the_loader(checkpoint, tmp_path, monkeypatch):
    seen = []

    def spy(path, device="default", weights="default"):
        seen.append((device, weights))
        return load_generator(path, "cpu", weights=weights)

    monkeypatch.setattr(sampling, "load_generator", spy)
    device = torch.device("cpu")
    sample_checkpoint(checkpoint, tmp_path / "grid.png", num=1, device=device)
    assert len(seen) == 1 and seen[0][0] is device and seen[0][1] == "raw"


def test_one_sample_is_enough_and_none_is_refused(checkpoint, tmp_path):
    raw, _ = load_generator(checkpoint)
    written = sample_checkpoint(checkpoint, tmp_path / "one.png", num=1, seed=3)
    np.testing.assert_array_equal(
        pixels(written[0]), expected_grid(raw, 1, 3, tmp_path / "expected_one.png")
    )
    with pytest.raises(InvalidInputError, match=r"^--num must be at least 1, got 0$"):
        sample_checkpoint(checkpoint, tmp_path / "none.png", num=0)
    assert not (tmp_path / "none.png").exists()


def test_the_strip_is_written_beside_the_grid_with_the_seed(checkpoint, tmp_path):
    written = sample_checkpoint(checkpoint, tmp_path / "a.png", num=2, interpolate=True, seed=4)
    assert written == [tmp_path / "a.png", tmp_path / "a_interpolation.png"]
    raw, _ = load_generator(checkpoint)
    strip = generate(raw, interpolation_noise(NOISE, rows=4, steps=10, seed=4))
    expected = show_images(strip, tmp_path / "expected_strip.png", columns=10)
    assert pixels(written[1]).shape == ((4 * 29 - 1) * 3, (10 * 29 - 1) * 3)  # 4 rows of 10
    np.testing.assert_array_equal(pixels(written[1]), pixels(expected))


def test_interpolation_defaults_are_4_rows_of_10_from_seed_0():
    draws = torch.Generator().manual_seed(0)
    start, end = sample_noise(4, 3, generator=draws), sample_noise(4, 3, generator=draws)
    path = interpolation_noise(3)
    assert path.shape == (40, 3)
    steps = path.view(4, 10, 3)
    for k in range(10):
        torch.testing.assert_close(steps[:, k], start + (end - start) * k / 9, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("rows", "steps"), [(0, 5), (3, 1), (0, 1), (-1, 10)])
def test_interpolation_refuses_too_few_rows_or_steps(rows, steps):
    message = rf"^need at least 1 row and 2 steps, got {rows} and {steps}$"
    with pytest.raises(InvalidInputError, match=message):
        interpolation_noise(3, rows=rows, steps=steps)
