"""The Fourier-domain class visualization: its colour statistics, its image, its judge."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vislab.datasets.imagenet import load_imagenet_val
from vislab.errors import InvalidInputError
from vislab.explain.fourier_visualization import (
    COLOUR_CORRELATION_SQRT,
    _frequency_scale,
    fourier_class_visualization,
    judge_top1,
    spectrum_to_pixels,
)


def test_colour_matrix_is_measured_on_the_course_images():
    images, _, _ = load_imagenet_val()
    pixels = images.reshape(-1, 3).astype(np.float64) / 255
    U, S, _ = np.linalg.svd(np.cov(pixels, rowvar=False))
    measured = U * np.sqrt(S)  # columns: decorrelated channels, each up to its sign
    signs = np.sign(measured[0])
    np.testing.assert_allclose(measured * signs, COLOUR_CORRELATION_SQRT, atol=1e-3)


def test_spectrum_gives_pixels_in_range_with_low_frequencies_first():
    scale = _frequency_scale(16, 16, 1.0)
    assert scale.shape == (16, 9) and scale[0, 0] == scale.max() == 16
    spectrum = torch.randn(2, 3, 16, 9, dtype=torch.complex64)
    pixels = spectrum_to_pixels(spectrum, scale, 16)
    assert pixels.shape == (2, 3, 16, 16) and 0 < pixels.min() and pixels.max() < 1


def test_the_ascent_raises_each_target_score_and_is_seeded(tiny_cnn):
    targets = ["alpha", "delta"]
    start = fourier_class_visualization(tiny_cnn, targets, num_iterations=1, seed=3)
    result = fourier_class_visualization(tiny_cnn, targets, num_iterations=12, seed=3)
    again = fourier_class_visualization(tiny_cnn, targets, num_iterations=12, seed=3)
    assert (result.scores > start.scores).all()
    assert torch.equal(result.pixels, again.pixels)
    assert result.pixels.shape == (2, 3, 16, 16) and result.images[0].size == (16, 16)
    # The model judges its own images: both name the intended class.
    assert judge_top1(tiny_cnn, result.pixels, torch.tensor([0, 3])).all()


def test_gray_models_and_clear_errors(make_tiny_cnn):
    gray = make_tiny_cnn(channels=1)
    result = fourier_class_visualization(gray, [1], num_iterations=2)
    assert result.pixels.shape == (1, 1, 16, 16) and result.images[0].mode == "L"
    with pytest.raises(InvalidInputError, match="ImageClassifier"):
        fourier_class_visualization(gray.model, [1])
    with pytest.raises(InvalidInputError, match="num_iterations"):
        fourier_class_visualization(gray, [1], num_iterations=0)
