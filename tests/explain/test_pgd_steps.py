"""The PGD loop step by step against a hand-run on a linear classifier: the step's size and
sign, the number of steps, the normalisation and the random start (gaps found by mutation
testing: the budget and success tests alone pass with a doubled step or one step fewer)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vislab.explain import pgd_attack, untargeted_pgd_attack


def _hand_run(model, pixels, label, steps, step_size, epsilon, sign):
    """`steps` signed-gradient steps on one image's pixels (1, C, H, W), each clipped to the
    epsilon ball and [0, 1]; sign -1 descends label's cross-entropy, +1 ascends it."""
    mean = torch.tensor(model.mean).view(1, -1, 1, 1)
    std = torch.tensor(model.std).view(1, -1, 1, 1)
    low, high = (pixels - epsilon).clamp(min=0), (pixels + epsilon).clamp(max=1)
    current = pixels.clone()
    for _ in range(steps):
        current.requires_grad_(True)
        loss = F.cross_entropy(model((current - mean) / std), torch.tensor([label]))
        (grad,) = torch.autograd.grad(loss, current)
        current = (current.detach() + sign * step_size * grad.sign()).clamp(low, high)
    return current


def _unreachable_target(model, X) -> int:
    """The class with the lowest score: a few small steps do not reach it."""
    with torch.no_grad():
        return int(model(X).argmin())


def test_targeted_steps_match_a_hand_run(linear):
    pixels = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    X = linear.normalise(pixels)
    target = _unreachable_target(linear, X)
    result = pgd_attack(X, target, linear, epsilon=0.2, step_size=0.01, max_iterations=3)
    assert not result.success.any() and result.iterations.tolist() == [3]
    expected = _hand_run(linear, pixels, target, 3, 0.01, 0.2, sign=-1)
    assert torch.allclose(linear.to_pixels(result.images), expected, atol=1e-6)
    moved = (linear.to_pixels(result.images) - pixels).abs()
    assert moved.max() <= 0.03 + 1e-6 and moved.max() >= 0.01 - 1e-6


def test_untargeted_steps_climb_the_true_class_loss(linear):
    pixels = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(1))
    X = linear.normalise(pixels)
    with torch.no_grad():
        label = int(linear(X).argmax())
    result = untargeted_pgd_attack(X, [label], linear, epsilon=0.2, step_size=1e-3,
                                   max_iterations=2)  # fmt: skip
    assert not result.success.any()  # two steps of 1e-3 do not change the prediction
    expected = _hand_run(linear, pixels, label, 2, 1e-3, 0.2, sign=+1)
    assert torch.allclose(linear.to_pixels(result.images), expected, atol=1e-6)


def test_success_on_the_last_allowed_step_counts(linear):
    pixels = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(2))
    X = linear.normalise(pixels)
    target = _unreachable_target(linear, X)
    free = pgd_attack(X, target, linear, epsilon=1.0, step_size=0.02, max_iterations=200)
    assert free.success.all()
    needed = int(free.iterations[0])
    assert needed > 0
    exact = pgd_attack(X, target, linear, epsilon=1.0, step_size=0.02, max_iterations=needed)
    assert exact.success.all() and exact.iterations.tolist() == [needed]
    short = pgd_attack(X, target, linear, epsilon=1.0, step_size=0.02, max_iterations=needed - 1)
    assert not short.success.any() and short.iterations.tolist() == [needed - 1]


def test_the_random_start_is_a_clipped_point_of_the_ball(linear):
    pixels = torch.rand(2, 3, 6, 6, generator=torch.Generator().manual_seed(3))
    X = linear.normalise(pixels)
    with torch.no_grad():
        labels = linear(X).argmax(1)
    result = untargeted_pgd_attack(X, labels, linear, epsilon=0.4, max_iterations=0,
                                   generator=torch.Generator().manual_seed(7))  # fmt: skip
    offset = (torch.rand(pixels.shape, generator=torch.Generator().manual_seed(7)) * 2 - 1) * 0.4
    expected = (pixels + offset).clamp(0, 1)  # the ball of 0.4 holds every offset
    assert torch.allclose(linear.to_pixels(result.images), expected, atol=1e-6)
    assert (expected != pixels + offset).any()  # the [0, 1] clip was exercised


def test_the_default_step_is_a_quarter_of_epsilon(linear):
    pixels = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(4))
    X = linear.normalise(pixels)
    target = _unreachable_target(linear, X)
    result = pgd_attack(X, target, linear, epsilon=0.02, max_iterations=3)
    assert not result.success.any()
    expected = _hand_run(linear, pixels, target, 3, 0.005, 0.02, sign=-1)
    assert torch.allclose(linear.to_pixels(result.images), expected, atol=1e-6)
    with torch.no_grad():
        label = int(linear(X).argmax())
    name = linear.class_names[label]
    away = untargeted_pgd_attack(X, [name], linear, epsilon=0.02, max_iterations=2)
    assert not away.success.any()
    expected = _hand_run(linear, pixels, label, 2, 0.005, 0.02, sign=+1)
    assert torch.allclose(linear.to_pixels(away.images), expected, atol=1e-6)


def test_the_default_iterations_are_100_targeted_and_20_untargeted(linear):
    pixels = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(5))
    X = linear.normalise(pixels)
    target = _unreachable_target(linear, X)
    targeted = pgd_attack(X, target, linear, epsilon=1e-3)
    assert not targeted.success.any() and targeted.iterations.tolist() == [100]
    expected = _hand_run(linear, pixels, target, 100, 1e-3 / 4, 1e-3, sign=-1)
    assert torch.allclose(linear.to_pixels(targeted.images), expected, atol=1e-6)
    with torch.no_grad():
        label = int(linear(X).argmax())
    untargeted = untargeted_pgd_attack(X, [label], linear, epsilon=1e-3)
    assert not untargeted.success.any() and untargeted.iterations.tolist() == [20]
    expected = _hand_run(linear, pixels, label, 20, 1e-3 / 4, 1e-3, sign=+1)
    assert torch.allclose(linear.to_pixels(untargeted.images), expected, atol=1e-6)


def test_a_pixel_the_model_ignores_does_not_move(linear):
    # sign(0) = 0: a zero gradient is no step, in both directions.
    with torch.no_grad():
        linear.model[1].weight[:, 0] = 0.0  # the first pixel of channel 0 is ignored
    pixels = torch.full((1, 3, 6, 6), 0.5)
    X = linear.normalise(pixels)
    target = _unreachable_target(linear, X)
    with torch.no_grad():
        label = int(linear(X).argmax())
    for result in (
        pgd_attack(X, target, linear, epsilon=0.1, step_size=0.01, max_iterations=1),
        untargeted_pgd_attack(X, [label], linear, epsilon=0.1, step_size=0.01, max_iterations=1),
    ):
        moved = linear.to_pixels(result.images) - pixels
        assert float(moved[0, 0, 0, 0]) == 0.0
        assert torch.allclose(moved.flatten()[1:].abs(), torch.tensor(0.01), atol=1e-6)
