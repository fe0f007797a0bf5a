"""`fool_image` against a hand-run of the course's normalised gradient ascent on the linear
classifier, whose gradient d score_t / dX is the constant W[t]: every step adds
learning_rate * W[t] / ||W[t]||. Also the default of 100 iterations, the log line and the
errors (gaps found by mutation testing)."""

from __future__ import annotations

import logging

import pytest
import torch

from vislab.errors import InvalidInputError
from vislab.explain import FoolingError, fool_image, make_fooling_image


def _direction(model, target: int) -> torch.Tensor:
    """W[target] as an image (1, C, H, W): the gradient of the target score in input space."""
    return model.model[1].weight[target].view(1, 3, 6, 6)


def _hand_ascent(model, X, target, steps, learning_rate):
    w = _direction(model, target)
    return X + steps * learning_rate * w / w.norm()


def _steps_to_fool(model, X, target, learning_rate) -> int:
    """The first k whose hand-run image the model assigns to `target`, by brute force."""
    with torch.no_grad():
        for k in range(1000):
            if int(model(_hand_ascent(model, X, target, k, learning_rate)).argmax()) == target:
                return k
    raise AssertionError("the hand-run never reaches the target")


def _image_and_lowest_class(linear, seed):
    X = torch.randn(1, 3, 6, 6, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return X, int(linear(X).argmin())


def test_a_failed_ascent_took_exactly_max_iterations_unit_steps(linear):
    X, target = _image_and_lowest_class(linear, 0)
    # ||W[t]|| < 1: a step not normalised to length learning_rate would be shorter.
    assert _direction(linear, target).norm() < 0.9
    result = fool_image(X, target, linear, max_iterations=3, learning_rate=1e-3)
    assert result.success is False and result.iterations == 3
    expected = _hand_ascent(linear, X, target, 3, 1e-3)
    assert torch.allclose(result.image, expected, atol=1e-6)
    assert abs(float((result.image - X).norm()) - 3e-3) < 1e-6


def test_success_on_the_last_allowed_step_counts_and_is_logged(linear, caplog):
    X, target = _image_and_lowest_class(linear, 1)
    needed = _steps_to_fool(linear, X, target, 0.2)
    assert needed > 1
    caplog.set_level(logging.DEBUG, logger="vislab.explain.fooling")
    exact = fool_image(X, target, linear, max_iterations=needed, learning_rate=0.2)
    assert exact.success is True and exact.iterations == needed
    assert torch.allclose(exact.image, _hand_ascent(linear, X, target, needed, 0.2), atol=1e-5)
    messages = [r.getMessage() for r in caplog.records if r.name == "vislab.explain.fooling"]
    assert messages == [f"fooled after {needed} iterations"]
    short = fool_image(X, target, linear, max_iterations=needed - 1, learning_rate=0.2)
    assert short.success is False and short.iterations == needed - 1


def test_the_default_is_100_iterations_of_learning_rate_1(linear):
    X, target = _image_and_lowest_class(linear, 2)
    slow = fool_image(X, target, linear, learning_rate=1e-6)
    assert slow.success is False and slow.iterations == 100
    assert torch.allclose(slow.image, _hand_ascent(linear, X, target, 100, 1e-6), atol=1e-6)
    with pytest.raises(FoolingError, match="after 100 iterations;") as caught:
        make_fooling_image(X, linear.class_names[target], linear, learning_rate=1e-6)
    assert caught.value.iterations == 100 and torch.equal(caught.value.image, slow.image)
    assert f"instead of {linear.class_names[target]!r}" in str(caught.value)
    unit = fool_image(X, target, linear, max_iterations=1)
    assert torch.allclose(unit.image, _hand_ascent(linear, X, target, 1, 1.0), atol=1e-6)


def test_bad_inputs_are_clear_errors(linear):
    X = torch.zeros(1, 3, 6, 6)
    with pytest.raises(InvalidInputError, match=r"^make_fooling_image needs a torch model \("):
        make_fooling_image(X, 0, "linear")
    with pytest.raises(InvalidInputError, match=r"^make_fooling_image needs a torch model \("):
        fool_image(X, 0, "linear")
    for shape in ((2, 3, 6, 6), (3, 6, 6)):
        message = (
            rf"^expected one image \(1, C, H, W\), got shape \({', '.join(map(str, shape))}\)$"
        )
        with pytest.raises(InvalidInputError, match=message):
            fool_image(torch.zeros(shape), 0, linear)
    with pytest.raises(InvalidInputError, match=r"^max_iterations must be at least 0, got -1$"):
        make_fooling_image(X, 0, linear, max_iterations=-1)
