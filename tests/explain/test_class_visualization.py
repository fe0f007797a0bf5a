"""Class visualization raises the target score, on 224x224 RGB and 28x28 grayscale models."""

from __future__ import annotations

import pytest
import torch

from vislab.backbones.registry import load_backbone
from vislab.explain import (
    SQUEEZENET_MEAN,
    SQUEEZENET_STD,
    class_visualization_update_step,
    create_class_visualization,
)


def test_update_step_is_in_place_and_raises_the_score(tiny_cnn):
    img = torch.randn(1, 3, 16, 16).requires_grad_(True)
    with torch.no_grad():
        before = tiny_cnn(img)[0, 2].item()
    address = img.data_ptr()
    class_visualization_update_step(img, tiny_cnn, 2, l2_reg=1e-3, learning_rate=0.5)
    assert img.data_ptr() == address and torch.equal(img.grad, torch.zeros_like(img))
    with torch.no_grad():
        assert tiny_cnn(img)[0, 2].item() > before


def test_step_has_the_learning_rate_as_its_length(linear):
    img = torch.randn(1, 3, 6, 6).requires_grad_(True)
    start = img.detach().clone()
    class_visualization_update_step(img, linear, 1, l2_reg=0.0, learning_rate=0.7)
    W = linear.model[1].weight[1].view(1, 3, 6, 6)
    torch.testing.assert_close(img.detach() - start, 0.7 * W / W.norm(), rtol=1e-5, atol=1e-6)


def test_create_returns_image_and_snapshots_within_range(make_tiny_cnn):
    model = make_tiny_cnn(size=32)
    result = create_class_visualization("gamma", model, num_iterations=30, show_every=10, seed=1)
    assert [t for t, _ in result.snapshots] == [1, 10, 20, 30]
    assert result.image.size == (32, 32) and result.tensor.shape == (1, 3, 32, 32)
    low, high = model.value_range()
    assert result.tensor.min() >= min(low) - 1e-6 and result.tensor.max() <= max(high) + 1e-6
    noise = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert model(result.tensor)[0, 2] > model(noise.clamp(min(low), max(high)))[0, 2]
    again = create_class_visualization("gamma", model, num_iterations=30, show_every=10, seed=1)
    assert torch.equal(again.tensor, result.tensor)
    with pytest.raises(TypeError, match="show_evry"):
        create_class_visualization(0, model, show_evry=3)


def test_on_snapshot_sees_every_snapshot_and_can_stop_the_run(make_tiny_cnn):
    model = make_tiny_cnn(size=16)
    seen = []
    result = create_class_visualization(
        1, model, num_iterations=12, show_every=4, on_snapshot=lambda t, image: seen.append(t)
    )
    assert seen == [t for t, _ in result.snapshots] == [1, 4, 8, 12]

    def stop(t, image):
        if t >= 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        create_class_visualization(1, model, num_iterations=12, show_every=4, on_snapshot=stop)


def test_works_on_the_28x28_fashion_mnist_cnn():
    model = load_backbone("fmnist_cnn")
    result = create_class_visualization("sneaker", model, num_iterations=60, seed=0)
    assert result.image.mode == "L" and result.image.size == (28, 28)
    assert result.tensor.min() >= 0 and result.tensor.max() <= 1
    with torch.no_grad():
        probabilities = model(result.tensor).softmax(dim=1)[0]
    assert probabilities.argmax().item() == 7 and probabilities[7] > 0.9


def test_raises_the_pretrained_target_score(efficientnet):
    result = create_class_visualization("tarantula", efficientnet, num_iterations=8, seed=0)
    noise = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0)).clamp(-1, 1)
    with torch.no_grad():
        after, before = efficientnet(result.tensor)[0, 76], efficientnet(noise)[0, 76]
    assert after > before + 5


def test_a_plain_module_gets_the_course_shape_and_squeezenet_clamping(make_tiny_cnn):
    plain = make_tiny_cnn().model  # an nn.Module without class names or normalisation
    result = create_class_visualization(3, plain, num_iterations=3, show_every=1)
    assert result.tensor.shape == (1, 3, 224, 224) and len(result.snapshots) == 3
    low = (-SQUEEZENET_MEAN / SQUEEZENET_STD).min()
    high = ((1 - SQUEEZENET_MEAN) / SQUEEZENET_STD).max()
    assert low - 1e-5 <= result.tensor.min() and result.tensor.max() <= high + 1e-5
