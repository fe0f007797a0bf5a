"""captum behind `attribute`: parity with the hand-written methods, known answers, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vislab.errors import InvalidInputError
from vislab.explain import compute_saliency_maps, integrated_gradients, smoothgrad_saliency_maps
from vislab.explain.attribution import METHODS, attribute, cam_layer


def test_saliency_is_the_course_function(tiny_cnn):
    X = torch.randn(3, 3, 16, 16)
    y = torch.tensor([0, 3, 4])
    result = attribute(tiny_cnn, X, y, "saliency")
    torch.testing.assert_close(result.maps, compute_saliency_maps(X, y, tiny_cnn))


def midpoint_integrated_gradients(X, y, model, baseline, num_steps):
    """The oracle, straight from the definition: (x - x') * mean_k grad(x' + a_k (x - x'))."""
    total = torch.zeros_like(X)
    for k in range(num_steps):
        point = (baseline + (k + 0.5) / num_steps * (X - baseline)).requires_grad_(True)
        model(point).gather(1, y[:, None]).sum().backward()
        total += point.grad
    return (X - baseline) * total / num_steps


def test_integrated_gradients_is_the_midpoint_rule(tiny_cnn):
    X = torch.randn(2, 3, 16, 16)
    y = torch.tensor([1, 2])
    black = tiny_cnn.normalise(torch.zeros_like(X))
    oracle = midpoint_integrated_gradients(X, y, tiny_cnn, black, 16)
    result = attribute(tiny_cnn, X, y, "integrated-gradients", num_steps=16, batch_size=5)
    torch.testing.assert_close(result.attributions, oracle, rtol=1e-5, atol=1e-6)
    zero = torch.zeros_like(X)
    ours = integrated_gradients(X, y, tiny_cnn, num_steps=16, batch_size=5)
    oracle = midpoint_integrated_gradients(X, y, tiny_cnn, zero, 16)
    torch.testing.assert_close(ours, oracle, rtol=1e-5, atol=1e-6)
    # The convergence delta is the gap between sum(attr) and f(x) - f(black).
    with torch.no_grad():
        gap = tiny_cnn(X)[[0, 1], y] - tiny_cnn(black)[[0, 1], y]
    expected = result.attributions.sum(dim=(1, 2, 3)) - gap
    torch.testing.assert_close(result.delta, expected, atol=1e-5, rtol=0)


def test_smoothgrad_is_the_mean_of_noisy_saliency_maps(linear, make_tiny_cnn):
    # A linear model's gradient is the same everywhere: SmoothGrad equals vanilla exactly.
    X = torch.randn(2, 3, 6, 6)
    y = torch.tensor([0, 4])
    result = attribute(linear, X, y, "smoothgrad", num_samples=5)
    torch.testing.assert_close(result.maps, compute_saliency_maps(X, y, linear))
    # Against the definition with torch's own noise: the same expectation (400 samples).
    cnn = make_tiny_cnn()
    X = torch.randn(1, 3, 16, 16)
    sigma = 0.15 * float(X.max() - X.min())
    generator = torch.Generator().manual_seed(5)
    noisy = X + sigma * torch.randn((400, 3, 16, 16), generator=generator)
    oracle = compute_saliency_maps(noisy, torch.full((400,), 2), cnn).mean(dim=0)
    ours = smoothgrad_saliency_maps(X, [2], cnn, num_samples=400)[0]
    assert torch.corrcoef(torch.stack([ours.flatten(), oracle.flatten()]))[0, 1] > 0.97
    torch.testing.assert_close(ours.mean(), oracle.mean(), rtol=0.05, atol=0)


def test_vargrad_of_a_linear_model_is_zero(linear):
    maps = attribute(linear, torch.randn(2, 3, 6, 6), [1, 2], "vargrad", num_samples=6).maps
    assert maps.abs().max() < 1e-7  # float32 round-off of E[g^2] - E[g]^2, g ~ 0.1


def test_gradcam_is_the_formula_at_the_last_conv(tiny_cnn):
    # Grad-CAM = ReLU(sum_k mean_hw(d score_y / dA_k) A_k), A the conv's output (N, 8, 16, 16).
    X = torch.randn(2, 3, 16, 16)
    y = torch.tensor([1, 4])
    assert cam_layer(tiny_cnn) is tiny_cnn.model[0]
    A = tiny_cnn.model[0](X).detach().requires_grad_(True)
    tiny_cnn.model[1:](A).gather(1, y[:, None]).sum().backward()
    weights = A.grad.mean(dim=(2, 3), keepdim=True)  # (N, 8, 1, 1)
    expected = (weights * A).sum(dim=1).clamp_min(0).detach()  # (N, 16, 16)
    maps = attribute(tiny_cnn, X, y, "gradcam").maps
    torch.testing.assert_close(maps, expected, rtol=1e-5, atol=1e-6)


def test_occlusion_of_a_linear_model_is_the_patch_sum(linear):
    # For a linear model the score drop of a patch set to black is sum_patch W (x - black).
    X = torch.randn(1, 3, 6, 6)
    W = linear.model[1].weight.view(5, 3, 6, 6)[3]
    black = linear.normalise(torch.zeros_like(X))
    contribution = (W * (X - black))[0]  # (3, 6, 6); patch 1x1 at size 6 (window 1 -> 2)
    result = attribute(linear, X, [3], "occlusion")
    patch = contribution[:, :2, :2].sum()
    torch.testing.assert_close(
        result.attributions[0, :, 0, 0], patch.expand(3), rtol=1e-4, atol=1e-5
    )


def test_every_method_on_every_kind_of_classifier(tiny_cnn, make_tiny_cnn):
    for classifier in (tiny_cnn, make_tiny_cnn(channels=1)):
        X = torch.randn(2, classifier.channels, 16, 16)
        before = X.clone()
        for method in METHODS:
            maps = attribute(
                classifier, X, ["beta", "gamma"], method, num_samples=2, num_steps=2
            ).maps
            assert maps.shape == (2, 16, 16) and torch.isfinite(maps).all(), method
        assert torch.equal(X, before)


def test_fmnist_cnn_guided_gradcam_leaves_the_model_as_it_was():
    from vislab.backbones import load_backbone

    classifier = load_backbone("fmnist_cnn")
    inplace = [m.inplace for m in classifier.modules() if isinstance(m, nn.ReLU)]
    X = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        before = classifier(X)
    maps = attribute(classifier, X, [0, 9], "guided-gradcam").maps
    assert maps.shape == (2, 28, 28) and maps.max() > 0
    assert [m.inplace for m in classifier.modules() if isinstance(m, nn.ReLU)] == inplace
    with torch.no_grad():
        torch.testing.assert_close(classifier(X), before)


def test_bad_arguments_are_clear_errors(tiny_cnn):
    X = torch.randn(1, 3, 16, 16)
    with pytest.raises(InvalidInputError, match="choose from"):
        attribute(tiny_cnn, X, [0], "lime")
    with pytest.raises(InvalidInputError, match=r"\(N, 3, H, W\)"):
        attribute(tiny_cnn, torch.randn(1, 1, 16, 16), [0], "gradcam")
    with pytest.raises(InvalidInputError, match="needs a vislab ImageClassifier"):
        attribute(tiny_cnn.model, X, [0], "gradcam")
    with pytest.raises(InvalidInputError, match="at least 1"):
        attribute(tiny_cnn, X, [0], "smoothgrad", num_samples=0)
