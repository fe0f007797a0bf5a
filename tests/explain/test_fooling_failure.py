"""`make_fooling_image` when it fails: the whole message (class names or indices, scores), the
last image and the iteration count on the error, the learning rate passed through, and the
course's default of 100 iterations (gaps found by mutation testing)."""

from __future__ import annotations

import inspect

import pytest
import torch

from vislab.explain import FoolingError, fool_image, make_fooling_image


def _failure(model, X, target, **options) -> FoolingError:
    with pytest.raises(FoolingError) as caught:
        make_fooling_image(X, target, model, **options)
    return caught.value


def test_the_failure_names_both_classes_with_their_scores(tiny_cnn):
    X = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        scores = tiny_cnn(X)[0]
    predicted = int(scores.argmax())
    target = (predicted + 1) % 5
    error = _failure(tiny_cnn, X, target, max_iterations=0)
    names = tiny_cnn.class_names
    assert str(error) == (
        f"the model still predicts {names[predicted]!r} (score {scores[predicted]:.2f}) instead "
        f"of {names[target]!r} (score {scores[target]:.2f}) after 0 iterations; allow more "
        "iterations or pick a closer target"
    )
    assert error.iterations == 0 and torch.equal(error.image, X)
    # A plain module has no class names: classes by index.
    plain = _failure(tiny_cnn.model, X, target, max_iterations=0)
    assert f"predicts class {predicted} (score" in str(plain)
    assert f"instead of class {target} (score" in str(plain)


def test_the_learning_rate_and_iterations_reach_the_ascent(tiny_cnn):
    X = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        target = (int(tiny_cnn(X).argmax()) + 2) % 5
    error = _failure(tiny_cnn, X, target, max_iterations=2, learning_rate=1e-3)
    expected = fool_image(X, target, tiny_cnn, max_iterations=2, learning_rate=1e-3)
    assert error.iterations == 2 and "after 2 iterations" in str(error)
    assert torch.equal(error.image, expected.image)
    assert 0 < float((error.image - X).norm()) <= 2e-3 * 1.001  # two steps of 1e-3, not of 1


def test_the_course_default_is_100_iterations():
    for function in (make_fooling_image, fool_image):
        assert inspect.signature(function).parameters["max_iterations"].default == 100
        assert inspect.signature(function).parameters["learning_rate"].default == 1.0
