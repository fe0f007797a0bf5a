"""The course's image helpers: jitter is a roll, blur is in place, pre/deprocess round-trip."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from scipy.ndimage import gaussian_filter1d

from vislab.explain import (
    SQUEEZENET_MEAN,
    SQUEEZENET_STD,
    blur_image,
    deprocess,
    jitter,
    preprocess,
    rescale,
)


def course_jitter(X, ox, oy):
    """The course's jitter, written with torch.cat."""
    if ox != 0:
        X = torch.cat([X[:, :, :, -ox:], X[:, :, :, :-ox]], dim=3)
    if oy != 0:
        X = torch.cat([X[:, :, -oy:], X[:, :, :-oy]], dim=2)
    return X


def test_jitter_is_the_course_roll_and_undoes_itself():
    X = torch.randn(2, 3, 7, 9)
    for ox, oy in [(0, 0), (3, 0), (0, 5), (4, 2), (8, 6)]:
        assert torch.equal(jitter(X, ox, oy), course_jitter(X, ox, oy))
        assert torch.equal(jitter(jitter(X, ox, oy), -ox, -oy), X)
    assert jitter(X, 1, 1)[0, 0, 1, 1] == X[0, 0, 0, 0]


def test_blur_is_in_place_and_separable_gaussian():
    X = torch.randn(1, 3, 12, 12)
    expected = gaussian_filter1d(gaussian_filter1d(X.numpy(), 0.5, axis=2), 0.5, axis=3)
    returned = blur_image(X, sigma=0.5)
    assert returned is X
    np.testing.assert_allclose(X.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_preprocess_keeps_aspect_and_deprocess_round_trips():
    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, size=(40, 60, 3), dtype=np.uint8)
    X = preprocess(Image.fromarray(array), size=20)
    assert X.shape == (1, 3, 20, 30)
    exact = preprocess(Image.fromarray(array), size=40)  # no resizing at the native size
    back = np.asarray(deprocess(exact, should_rescale=False)).astype(int)
    assert np.abs(back - array).max() <= 1
    expected = (array[0, 0] / 255.0 - SQUEEZENET_MEAN) / SQUEEZENET_STD
    np.testing.assert_allclose(exact[0, :, 0, 0].numpy(), expected, rtol=1e-5, atol=1e-5)


def test_rescale_spans_zero_to_one():
    x = torch.tensor([[2.0, 4.0], [3.0, 6.0]])
    torch.testing.assert_close(rescale(x), torch.tensor([[0.0, 0.5], [0.25, 1.0]]))
    image = np.asarray(deprocess(torch.randn(1, 3, 5, 5)))
    assert image.min() == 0 and image.max() == 255
