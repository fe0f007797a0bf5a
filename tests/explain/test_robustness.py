"""Untargeted PGD and the robustness curve: monotone, inside the ball, clear errors."""

from __future__ import annotations

import pytest
import torch

from vislab.errors import InvalidInputError
from vislab.explain.pgd import untargeted_pgd_attack
from vislab.explain.robustness import robustness_curve, transfer_rate


def test_untargeted_pgd_leaves_the_true_class_inside_the_ball(tiny_cnn):
    X = tiny_cnn.normalise(torch.rand(6, 3, 16, 16))
    with torch.no_grad():
        y = tiny_cnn(X).argmax(1)
    generator = torch.Generator().manual_seed(0)
    result = untargeted_pgd_attack(X, y, tiny_cnn, 0.3, max_iterations=30, generator=generator)
    change = (tiny_cnn.to_pixels(result.images) - tiny_cnn.to_pixels(X)).abs().max()
    assert change <= 0.3 + 1e-5
    with torch.no_grad():
        predicted = tiny_cnn(result.images).argmax(1)
    assert torch.equal(predicted != y, result.success) and result.success.any()


def test_curve_starts_at_clean_accuracy_and_falls_monotonically(tiny_cnn):
    X = tiny_cnn.normalise(torch.rand(12, 3, 16, 16))
    with torch.no_grad():
        y = tiny_cnn(X).argmax(1)
    y[:3] = (y[:3] + 1) % 5  # three wrong labels: clean accuracy 9/12
    curve = robustness_curve(tiny_cnn, X, y, [0.001, 0.01, 0.1, 0.5], restarts=2, iterations=10)
    assert curve.epsilons == [0.0, 0.001, 0.01, 0.1, 0.5]
    assert curve.accuracy[0] == 0.75
    assert all(a >= b for a, b in zip(curve.accuracy, curve.accuracy[1:], strict=False))
    assert curve.accuracy[-1] < curve.accuracy[0]
    fooled = curve.fooled_at >= 0
    assert (curve.fooled_at[:3] == -1).all()  # already wrong: never attacked
    with torch.no_grad():
        assert (tiny_cnn(curve.adversarial[fooled]).argmax(1) != y[fooled]).all()
    # The same model judges its own adversarial images: all of them transfer.
    assert transfer_rate(tiny_cnn, tiny_cnn, curve.adversarial[fooled], y[fooled]) == 1.0


def test_bad_ladders_are_clear_errors(tiny_cnn):
    X = torch.rand(1, 3, 16, 16)
    with pytest.raises(InvalidInputError, match="increasing"):
        robustness_curve(tiny_cnn, X, [0], [0.1, 0.01])
    with pytest.raises(InvalidInputError, match="increasing"):
        robustness_curve(tiny_cnn, X, [0], [])
    with pytest.raises(InvalidInputError, match="ImageClassifier"):
        robustness_curve(tiny_cnn.model, X, [0], [0.1])
