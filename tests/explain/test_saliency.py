"""Vanilla saliency, SmoothGrad and Integrated Gradients against known answers and autograd."""

from __future__ import annotations

import pytest
import torch

from vislab.errors import InvalidInputError
from vislab.explain import (
    compute_saliency_maps,
    integrated_gradients,
    integrated_gradients_saliency_maps,
    smoothgrad_saliency_maps,
)
from vislab.explain.saliency import top_class_saliency


class BatchRecorder(torch.nn.Module):
    """Wraps a model and records the batch sizes it sees."""

    def __init__(self, model):
        super().__init__()
        self.model, self.sizes = model, []

    def forward(self, x):
        self.sizes.append(len(x))
        return self.model(x)


def test_linear_model_saliency_is_channel_max_of_abs_weights(linear):
    X = torch.randn(4, 3, 6, 6)
    y = torch.tensor([0, 3, 1, 3])
    W = linear.model[1].weight.view(5, 3, 6, 6)
    expected = W[y].abs().amax(dim=1)
    torch.testing.assert_close(compute_saliency_maps(X, y, linear), expected, rtol=0, atol=1e-6)


def test_saliency_matches_per_image_autograd_and_leaves_input_untouched(tiny_cnn):
    X = torch.randn(3, 3, 16, 16)
    before = X.clone()
    y = torch.tensor([4, 0, 2])
    maps = compute_saliency_maps(X, y, tiny_cnn)
    for n in range(3):
        x = X[n : n + 1].clone().requires_grad_(True)
        tiny_cnn(x)[0, y[n]].backward()
        torch.testing.assert_close(maps[n], x.grad[0].abs().amax(dim=0), rtol=1e-5, atol=1e-7)
    assert maps.shape == (3, 16, 16) and (maps >= 0).all()
    assert torch.equal(X, before) and not X.requires_grad


def test_top_class_saliency_is_the_saliency_of_the_argmax_in_one_forward(tiny_cnn):
    X = torch.randn(4, 3, 16, 16)
    before = X.clone()
    recorder = BatchRecorder(tiny_cnn)
    maps, scores = top_class_saliency(X, recorder)
    assert recorder.sizes == [4]  # one forward pass for the class and the gradient
    with torch.no_grad():
        torch.testing.assert_close(scores, tiny_cnn(X))
    expected = compute_saliency_maps(X, scores.argmax(dim=1), tiny_cnn)
    torch.testing.assert_close(maps, expected, rtol=0, atol=0)
    assert torch.equal(X, before) and not X.requires_grad
    with pytest.raises(InvalidInputError, match="expected images"):
        top_class_saliency(X[0], tiny_cnn)


def test_class_names_work_where_indices_do(tiny_cnn):
    X = torch.randn(2, 3, 16, 16)
    by_name = compute_saliency_maps(X, ["delta", "alpha"], tiny_cnn)
    torch.testing.assert_close(by_name, compute_saliency_maps(X, torch.tensor([3, 0]), tiny_cnn))
    with pytest.raises(InvalidInputError, match="unknown class name"):
        compute_saliency_maps(X, ["delta", "omega"], tiny_cnn)
    with pytest.raises(InvalidInputError, match="2 images"):
        compute_saliency_maps(X, [1, 2, 3], tiny_cnn)


def test_smoothgrad_of_a_linear_model_is_the_vanilla_map(linear):
    # The gradient of a linear model does not depend on the input, so noise changes nothing.
    X = torch.randn(3, 3, 6, 6)
    y = torch.tensor([1, 2, 3])
    smooth = smoothgrad_saliency_maps(X, y, linear, num_samples=7, batch_size=4)
    torch.testing.assert_close(smooth, compute_saliency_maps(X, y, linear), rtol=1e-5, atol=1e-6)


def test_smoothgrad_bounds_the_batch_and_zero_noise_is_vanilla(tiny_cnn):
    X = torch.randn(3, 3, 16, 16)
    y = torch.tensor([0, 1, 2])
    recorder = BatchRecorder(tiny_cnn)
    smooth = smoothgrad_saliency_maps(X, y, recorder, num_samples=5, noise_level=0.0, batch_size=4)
    assert max(recorder.sizes) <= 4 and sum(recorder.sizes) == 15
    torch.testing.assert_close(smooth, compute_saliency_maps(X, y, tiny_cnn), rtol=1e-5, atol=1e-7)
    generator = torch.Generator().manual_seed(1)
    noisy = smoothgrad_saliency_maps(X, y, tiny_cnn, num_samples=4, generator=generator)
    again = smoothgrad_saliency_maps(
        X, y, tiny_cnn, num_samples=4, generator=torch.Generator().manual_seed(1)
    )
    assert torch.equal(noisy, again) and not torch.allclose(noisy, smooth)


def test_integrated_gradients_of_a_linear_model_is_exact(linear):
    X = torch.randn(2, 3, 6, 6)
    y = torch.tensor([4, 1])
    W = linear.model[1].weight.view(5, 3, 6, 6)
    attributions = integrated_gradients(X, y, linear, num_steps=3)
    torch.testing.assert_close(attributions, X * W[y], rtol=1e-5, atol=1e-6)


def test_integrated_gradients_completeness_and_batch_bound(tiny_cnn):
    X = torch.randn(2, 3, 16, 16)
    y = torch.tensor([2, 3])
    recorder = BatchRecorder(tiny_cnn)
    attributions = integrated_gradients(X, y, recorder, num_steps=64, batch_size=8)
    assert max(recorder.sizes) <= 8
    with torch.no_grad():
        gap = tiny_cnn(X).gather(1, y[:, None])[:, 0] - tiny_cnn(torch.zeros_like(X))[:, y].diag()
    torch.testing.assert_close(attributions.sum(dim=(1, 2, 3)), gap, rtol=1e-3, atol=1e-3)
    maps = integrated_gradients_saliency_maps(X, y, tiny_cnn, num_steps=8)
    assert maps.shape == (2, 16, 16) and (maps >= 0).all()


def test_images_without_a_batch_axis_are_refused_with_their_shape(tiny_cnn):
    with pytest.raises(
        InvalidInputError, match=r"^expected images \(N, C, H, W\), got shape \(3, 16, 16\)$"
    ):
        compute_saliency_maps(torch.zeros(3, 16, 16), torch.tensor([0]), tiny_cnn)


@pytest.mark.parametrize(
    "call",
    [
        lambda X: compute_saliency_maps(X, torch.tensor([0]), "net"),
        lambda X: top_class_saliency(X, "net"),
    ],
    ids=["compute_saliency_maps", "top_class_saliency"],
)
def test_a_model_that_is_not_a_module_is_named_in_the_error(call, request):
    name = request.node.callspec.id
    with pytest.raises(InvalidInputError, match=rf"^{name} needs a torch model .* got str$"):
        call(torch.zeros(1, 3, 6, 6))
