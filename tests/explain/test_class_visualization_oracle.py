"""create_class_visualization against the course's loop written out by hand, defaults included."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter1d

from vislab.errors import InvalidInputError
from vislab.explain import class_visualization_update_step, create_class_visualization

# SqueezeNet's ImageNet normalisation, as the course writes it.
SQUEEZENET_MEAN = (0.485, 0.456, 0.406)
SQUEEZENET_STD = (0.229, 0.224, 0.225)


def course_loop(model, target, shape, low, high, *, dtype=torch.float32, **options):
    """The course's create_class_visualization, plainly: returns (final, [(t, img), ...])."""
    C, H, W = shape
    rng = random.Random(options["seed"])
    generator = torch.Generator().manual_seed(options["seed"])
    img = torch.randn(1, C, H, W, generator=generator).to(dtype)
    snapshots = []
    for t in range(options["num_iterations"]):
        ox = rng.randint(0, options["max_jitter"])
        oy = rng.randint(0, options["max_jitter"])
        x = torch.roll(img, shifts=(oy, ox), dims=(2, 3)).requires_grad_(True)
        objective = model(x)[0, target] - options["l2_reg"] * (x * x).sum()
        (g,) = torch.autograd.grad(objective, x)
        x = x.detach() + options["learning_rate"] * g / g.norm()
        img = torch.roll(x, shifts=(-oy, -ox), dims=(2, 3))
        img = torch.stack([img[:, c].clamp(low[c], high[c]) for c in range(C)], dim=1)
        if t % options["blur_every"] == 0:
            blurred = gaussian_filter1d(img.numpy(), options["blur_sigma"], axis=2)
            img = torch.from_numpy(gaussian_filter1d(blurred, options["blur_sigma"], axis=3))
        last = t == options["num_iterations"] - 1
        if t == 0 or (t + 1) % options["show_every"] == 0 or last:
            snapshots.append((t + 1, img.clone()))
    return img, snapshots


def course_defaults(C, H):
    """The documented defaults for a C x H x H input (the course's values are for 3x224x224)."""
    small = H < 64
    return dict(
        l2_reg=1e-3,
        learning_rate=25 * math.sqrt(C * H * H / (3 * 224 * 224)),
        num_iterations=100,
        blur_every=5 if small else 10,
        blur_sigma=0.7 if small else 0.5,
        max_jitter=max(1, round(16 * H / 224)),
        show_every=25,
        seed=0,
    )


def assert_same_run(result, model, final, snapshots):
    """The same floats in the same order: the run is reproduced exactly."""
    assert torch.equal(result.tensor, final)
    assert [t for t, _ in result.snapshots] == [t for t, _ in snapshots]
    for (_, image), (_, expected) in zip(result.snapshots, snapshots, strict=True):
        assert image.mode == ("L" if model.channels == 1 else "RGB")
        assert np.array_equal(np.asarray(image), np.asarray(model.deprocess(expected)))
    assert np.array_equal(np.asarray(result.image), np.asarray(model.deprocess(final)))


# 20 and 21 are small (more blur) and tell round(16 H / 224) from its neighbours; 64 is the
# first size that is not small.
@pytest.mark.parametrize(("channels", "size"), [(1, 20), (3, 21), (3, 64)])
def test_defaults_are_the_course_loop_with_the_documented_values(make_tiny_cnn, channels, size):
    model = make_tiny_cnn(channels=channels, size=size)
    final, snapshots = course_loop(
        model, 2, (channels, size, size), [-2.0] * channels, [2.0] * channels,
        **course_defaults(channels, size),
    )  # fmt: skip
    result = create_class_visualization("gamma", model)
    assert [t for t, _ in result.snapshots] == [1, 25, 50, 75, 100]
    assert_same_run(result, model, final, snapshots)


def test_every_keyword_argument_is_used(make_tiny_cnn):
    model = make_tiny_cnn(channels=3, size=12)
    options = dict(
        l2_reg=0.2,
        learning_rate=0.9,
        num_iterations=7,
        blur_every=3,
        blur_sigma=1.3,
        max_jitter=4,
        show_every=2,
        seed=5,
    )
    final, snapshots = course_loop(model, 1, (3, 12, 12), [-2.0] * 3, [2.0] * 3, **options)
    result = create_class_visualization(1, model, **options)
    assert [t for t, _ in result.snapshots] == [1, 2, 4, 6, 7]
    assert_same_run(result, model, final, snapshots)


def test_float64_runs_model_and_image_in_float64(make_tiny_cnn):
    model = make_tiny_cnn(channels=1, size=10)
    options = dict(course_defaults(1, 10), num_iterations=6, show_every=3)
    result = create_class_visualization(4, model, dtype=torch.float64, **options)
    assert result.tensor.dtype == torch.float64
    final, snapshots = course_loop(
        model, 4, (1, 10, 10), [-2.0], [2.0], dtype=torch.float64, **options
    )
    assert final.dtype == torch.float64
    assert_same_run(result, model, final, snapshots)


def test_a_plain_module_is_clamped_to_the_squeezenet_pixel_range(make_tiny_cnn):
    plain = make_tiny_cnn().model
    low = [(0.0 - m) / s for m, s in zip(SQUEEZENET_MEAN, SQUEEZENET_STD, strict=True)]
    high = [(1.0 - m) / s for m, s in zip(SQUEEZENET_MEAN, SQUEEZENET_STD, strict=True)]
    # a huge step drives most pixels onto the bounds; no blur after the last step
    options = dict(course_defaults(3, 224), num_iterations=2, learning_rate=1e4)
    final, _ = course_loop(plain, 3, (3, 224, 224), low, high, **options)
    result = create_class_visualization(3, plain, num_iterations=2, learning_rate=1e4)
    # float64 bounds here, float32 in vislab: the last bit differs (and blurs)
    torch.testing.assert_close(result.tensor, final, rtol=0, atol=1e-5)
    per_channel = result.tensor[0].flatten(1)  # (3, H * W)
    torch.testing.assert_close(per_channel.amin(1), torch.tensor(low), rtol=0, atol=1e-6)
    torch.testing.assert_close(per_channel.amax(1), torch.tensor(high), rtol=0, atol=1e-6)


def test_progress_bar_only_when_asked(make_tiny_cnn, capsys):
    model = make_tiny_cnn(size=8)
    create_class_visualization(0, model, num_iterations=3)
    assert capsys.readouterr().err == ""
    create_class_visualization(0, model, num_iterations=3, progress=True)
    err = capsys.readouterr().err
    assert "class visualization" in err and "3/3" in err


def test_unknown_keyword_arguments_are_all_named(make_tiny_cnn):
    with pytest.raises(TypeError, match=r"^unexpected keyword arguments: steps, lr$"):
        create_class_visualization(0, make_tiny_cnn(size=8), steps=3, lr=0.1)


def test_update_step_follows_the_l2_regularised_gradient(linear):
    # d/dx (W[y] x + b - l2 ||x||^2) = W[y] - 2 l2 x
    img = torch.randn(1, 3, 6, 6)
    x = img.clone().requires_grad_(True)
    class_visualization_update_step(x, linear, 3, l2_reg=0.4, learning_rate=0.7)
    g = linear.model[1].weight[3].view(1, 3, 6, 6) - 2 * 0.4 * img
    torch.testing.assert_close(x.detach(), img + 0.7 * g / g.norm(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda: class_visualization_update_step(torch.zeros(1, 3, 6, 6), "net", 0, 0.0, 1.0),
        lambda: create_class_visualization(0, "net"),
    ],
    ids=["class_visualization_update_step", "create_class_visualization"],
)
def test_a_model_that_is_not_a_module_is_named_in_the_error(call, request):
    name = request.node.callspec.id
    with pytest.raises(InvalidInputError, match=rf"^{name} needs a torch model .* got str$"):
        call()
