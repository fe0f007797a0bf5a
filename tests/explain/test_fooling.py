"""Fooling images (course) and batched PGD on a tiny CNN and on EfficientNet-Lite0."""

from __future__ import annotations

import pytest
import torch

from vislab.datasets.sample_photos import load_sample_photo
from vislab.explain import FoolingError, fool_image, make_fooling_image, pgd_attack


def _prediction(model, X):
    with torch.no_grad():
        return model(X).argmax(dim=1)


def test_fooling_reaches_the_target_on_a_tiny_cnn(tiny_cnn):
    torch.manual_seed(3)
    X = torch.randn(1, 3, 16, 16)
    target = (int(_prediction(tiny_cnn, X)) + 1) % 5
    before = X.clone()
    X_fooling = make_fooling_image(X, target, tiny_cnn, max_iterations=500)
    assert int(_prediction(tiny_cnn, X_fooling)) == target
    assert torch.equal(X, before)
    result = fool_image(X, tiny_cnn.class_names[target], tiny_cnn, max_iterations=500)
    assert result.success and torch.equal(result.image, X_fooling)
    # Each step has L2 length 1, so the image moved at most `iterations` in L2.
    assert 0 < (X_fooling - X).norm() <= result.iterations + 1e-4


def test_fooling_failure_is_reported_not_looped(tiny_cnn):
    X = torch.randn(1, 3, 16, 16)
    target = (int(_prediction(tiny_cnn, X)) + 1) % 5
    with pytest.raises(FoolingError, match="after 0 iterations") as caught:
        make_fooling_image(X, target, tiny_cnn, max_iterations=0)
    assert caught.value.image.shape == X.shape
    assert fool_image(X, target, tiny_cnn, max_iterations=0).success is False


def test_pgd_stays_in_budget_and_reports_success(tiny_cnn):
    torch.manual_seed(4)
    X = tiny_cnn.normalise(torch.rand(4, 3, 16, 16))
    targets = (_prediction(tiny_cnn, X) + 2) % 5
    result = pgd_attack(X, targets, tiny_cnn, epsilon=0.5, max_iterations=50)
    pixels, original = tiny_cnn.to_pixels(result.images), tiny_cnn.to_pixels(X)
    assert (pixels - original).abs().max() <= 0.5 + 1e-5
    assert pixels.min() >= -1e-6 and pixels.max() <= 1 + 1e-6
    reached = _prediction(tiny_cnn, result.images) == targets
    assert torch.equal(result.success, reached) and result.success.any()
    assert (result.iterations[result.success] > 0).all()
    tiny = pgd_attack(X, targets, tiny_cnn, epsilon=1e-6, max_iterations=3)
    assert not tiny.success.any() and (tiny.iterations == 3).all()


def test_pretrained_model_is_fooled_by_a_small_change(efficientnet):
    X = efficientnet.preprocess(load_sample_photo("coffee"))
    result = fool_image(X, "stingray", efficientnet, max_iterations=100)
    assert result.success and result.iterations <= 100
    change = efficientnet.to_pixels(result.image) - efficientnet.to_pixels(X)
    assert change.abs().max() < 0.15  # pixel units; the mean change is far smaller
    assert change.abs().mean() < 0.005
    pgd = pgd_attack(X, "stingray", efficientnet, epsilon=4 / 255, max_iterations=30)
    assert pgd.success.item()
    assert (efficientnet.to_pixels(pgd.images) - efficientnet.to_pixels(X)).abs().max() <= (
        4 / 255 + 1e-5
    )
