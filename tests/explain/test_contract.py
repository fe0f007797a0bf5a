"""The classifier contract: what each explain function accepts, and the error otherwise."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vislab.backbones.classifier import ImageClassifier, require_classifier
from vislab.errors import InvalidInputError
from vislab.explain import (
    class_visualization_update_step,
    compute_saliency_maps,
    create_class_visualization,
    integrated_gradients,
    make_fooling_image,
    pgd_attack,
    smoothgrad_saliency_maps,
)


def plain_gray_model() -> nn.Module:
    """A 1-channel network without any vislab wrapper: (N, 1, 8, 8) -> (N, 3)."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 3))


def test_pgd_refuses_a_plain_model_instead_of_guessing_its_normalisation():
    # Before the contract, a plain 1-channel model was attacked with SqueezeNet's 3-channel
    # mean and std and crashed inside torch.
    X = torch.rand(2, 1, 8, 8)
    with pytest.raises(InvalidInputError, match="pgd_attack needs a vislab ImageClassifier"):
        pgd_attack(X, 1, plain_gray_model(), epsilon=0.1)


def test_pgd_reads_the_normalisation_of_the_classifier():
    model = plain_gray_model()
    wrapped = ImageClassifier("gray", model, ("a", "b", "c"), 8, [0.3], [0.2], model[0])
    X = wrapped.normalise(torch.rand(2, 1, 8, 8))
    result = pgd_attack(X, "c", wrapped, epsilon=0.05, max_iterations=5)
    pixels, original = wrapped.to_pixels(result.images), wrapped.to_pixels(X)
    assert (pixels - original).abs().max() <= 0.05 + 1e-6
    assert pixels.min() >= -1e-6 and pixels.max() <= 1 + 1e-6


def test_course_functions_still_take_a_plain_model():
    model = plain_gray_model()
    X = torch.rand(2, 1, 8, 8)
    assert compute_saliency_maps(X, torch.tensor([0, 2]), model).shape == (2, 8, 8)
    assert make_fooling_image(X[:1], 2, model, max_iterations=200).shape == (1, 1, 8, 8)
    img = X[:1].clone().requires_grad_(True)
    class_visualization_update_step(img, model, 1, 1e-3, 1.0)
    assert not torch.equal(img.detach(), X[:1])
    assert smoothgrad_saliency_maps(X, [0, 1], model, num_samples=2).shape == (2, 8, 8)
    assert integrated_gradients(X, [0, 1], model, num_steps=2).shape == X.shape


@pytest.mark.parametrize(
    "call",
    [
        lambda bad: compute_saliency_maps(torch.rand(1, 3, 8, 8), [0], bad),
        lambda bad: make_fooling_image(torch.rand(1, 3, 8, 8), 0, bad),
        lambda bad: create_class_visualization(0, bad),
        lambda bad: smoothgrad_saliency_maps(torch.rand(1, 3, 8, 8), [0], bad),
        lambda bad: integrated_gradients(torch.rand(1, 3, 8, 8), [0], bad),
        lambda bad: require_classifier(bad, "sanity_check"),
    ],
)
def test_anything_but_a_model_is_a_clear_error(call):
    with pytest.raises(InvalidInputError, match="needs a "):
        call("efficientnet_lite0")


def test_a_classifier_needs_one_statistic_per_channel():
    model = plain_gray_model()
    with pytest.raises(InvalidInputError, match="one value per channel"):
        ImageClassifier("bad", model, ("a", "b", "c"), 8, [0.5, 0.5], [0.2], model[0])
