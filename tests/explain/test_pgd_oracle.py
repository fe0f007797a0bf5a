"""PGD's normalisation, its float64 random start and its error messages, each against a
value written out by hand (gaps found by mutation testing)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vislab.backbones.classifier import ImageClassifier
from vislab.errors import InvalidInputError
from vislab.explain import pgd_attack
from vislab.explain.pgd import normalisation, untargeted_pgd_attack


def test_normalisation_is_one_value_per_channel_like_the_images(linear):
    gray = ImageClassifier("gray", nn.Flatten(), ("a", "b"), 4, [0.3], [0.2], nn.Flatten())
    mean, std = normalisation(gray, torch.zeros(2, 1, 4, 4, dtype=torch.float64))
    assert mean.dtype == std.dtype == torch.float64
    assert torch.equal(mean, torch.tensor(0.3, dtype=torch.float64).view(1, 1, 1, 1))
    assert torch.equal(std, torch.tensor(0.2, dtype=torch.float64).view(1, 1, 1, 1))
    mean, std = normalisation(linear, torch.zeros(2, 3, 6, 6))
    assert mean.shape == std.shape == (1, 3, 1, 1) and mean.dtype == torch.float32
    assert mean.flatten().tolist() == [0.5] * 3 and std.flatten().tolist() == [0.25] * 3
    # The device follows `like` too (the meta device needs no accelerator).
    mean, std = normalisation(linear, torch.empty(1, 3, 6, 6, device="meta"))
    assert mean.device.type == std.device.type == "meta"


def test_a_float64_random_start_draws_float64_offsets(linear):
    model = linear.double()
    pixels = torch.rand(2, 3, 6, 6, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    X = model.normalise(pixels)
    with torch.no_grad():
        labels = model(X).argmax(1)
    result = untargeted_pgd_attack(X, labels, model, epsilon=0.4, max_iterations=0,
                                   generator=torch.Generator().manual_seed(7))  # fmt: skip
    assert result.images.dtype == torch.float64
    draw = torch.rand(pixels.shape, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    expected = (pixels + (draw * 2 - 1) * 0.4).clamp(0, 1)
    assert torch.allclose(model.to_pixels(result.images), expected, atol=1e-12, rtol=0)


ATTACKS = [
    pytest.param(lambda X, model, **kw: pgd_attack(X, 0, model, **kw), id="targeted"),
    pytest.param(
        lambda X, model, **kw: untargeted_pgd_attack(X, [0], model, **kw), id="untargeted"
    ),
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_bad_inputs_are_clear_errors(attack, linear):
    X = torch.zeros(1, 3, 6, 6)
    with pytest.raises(
        InvalidInputError, match=r"^expected images \(N, C, H, W\), got shape \(3, 6, 6\)$"
    ):
        attack(X[0], linear, epsilon=0.1)
    for epsilon in (0, -0.5):
        with pytest.raises(InvalidInputError, match=rf"^epsilon must be positive, got {epsilon}$"):
            attack(X, linear, epsilon=epsilon)
    with pytest.raises(InvalidInputError, match=r"^max_iterations must be at least 0, got -1$"):
        attack(X, linear, epsilon=0.1, max_iterations=-1)


def test_the_untargeted_attack_names_itself_for_a_plain_model(linear):
    with pytest.raises(
        InvalidInputError, match=r"^untargeted_pgd_attack needs a vislab ImageClassifier \("
    ):
        untargeted_pgd_attack(torch.zeros(1, 3, 6, 6), [0], linear.model, epsilon=0.1)


def test_zero_iterations_only_check_the_images_as_given(linear):
    """max_iterations=0 is allowed: no step; success says whether X already qualifies."""
    X = linear.normalise(torch.rand(4, 3, 6, 6, generator=torch.Generator().manual_seed(8)))
    with torch.no_grad():
        predicted = linear(X).argmax(1)
    target = int(predicted[0])
    targeted = pgd_attack(X, target, linear, epsilon=0.1, max_iterations=0)
    away = untargeted_pgd_attack(X, [target] * 4, linear, epsilon=0.1, max_iterations=0)
    for result in (targeted, away):
        assert torch.allclose(result.images, X, atol=1e-6)
        assert result.iterations.tolist() == [0] * 4
    assert targeted.success.tolist() == (predicted == target).tolist()
    assert away.success.tolist() == (predicted != target).tolist()
    assert 0 < int((predicted == target).sum()) < 4  # both outcomes occur
