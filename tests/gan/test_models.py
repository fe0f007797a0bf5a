"""The course's networks: parameter counts from the notebook, shapes, noise."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vislab.gan import (
    NOISE_DIM,
    Flatten,
    Unflatten,
    build_dc_classifier,
    build_dc_generator,
    count_params,
    discriminator,
    generator,
    initialize_weights,
    sample_noise,
)


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda: discriminator(), 267009),
        (lambda: generator(4), 1858320),
        (lambda: build_dc_classifier(128), 1102721),
        (lambda: build_dc_generator(4), 6580801),
    ],
    ids=["discriminator", "generator", "dc_classifier", "dc_generator"],
)
def test_parameter_counts_match_the_notebook(build, expected):
    assert count_params(build()) == expected


def test_sample_noise_shape_range_and_distribution():
    torch.manual_seed(231)
    z = sample_noise(3, 4)
    assert z.shape == (3, 4) and torch.is_tensor(z)
    assert (z >= -1).all() and (z <= 1).all() and (z < 0).any() and (z > 0).any()
    big = sample_noise(20000, 8, seed=0)
    # Uniform(-1, 1): mean 0, variance 1/3.
    assert abs(big.mean().item()) < 0.01 and abs(big.var().item() - 1 / 3) < 0.01
    assert torch.equal(sample_noise(5, 2, seed=7), sample_noise(5, 2, seed=7))


def test_private_generator_leaves_the_global_state_alone():
    torch.manual_seed(0)
    before = torch.get_rng_state()
    a = sample_noise(4, 3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(a, sample_noise(4, 3, generator=torch.Generator().manual_seed(1)))


def test_seeded_builders_are_deterministic():
    for a, b in zip(
        discriminator(seed=3).parameters(), discriminator(seed=3).parameters(), strict=True
    ):
        assert torch.equal(a, b)
    for a, b in zip(generator(seed=3).parameters(), generator(seed=3).parameters(), strict=True):
        assert torch.equal(a, b)


def test_shapes_of_every_network():
    images = torch.rand(5, 1, 28, 28) * 2 - 1
    noise = sample_noise(5, NOISE_DIM, seed=0)
    assert discriminator()(images).shape == (5, 1)
    assert discriminator()(images.view(5, 784)).shape == (5, 1)
    fake = generator()(noise)
    assert fake.shape == (5, 784) and fake.abs().max() <= 1
    # The DC classifier accepts any batch (a DDP rank's share, evaluation chunks).
    assert build_dc_classifier(128)(images).shape == (5, 1)
    assert build_dc_classifier(128)(images.view(5, 784)).shape == (5, 1)
    fake = build_dc_generator()(noise)
    assert fake.shape == (5, 784) and fake.abs().max() <= 1


def test_flatten_unflatten_round_trip():
    x = torch.randn(2, 128, 7, 7)
    flat = Flatten()(x)
    assert flat.shape == (2, 128 * 49)
    assert torch.equal(Unflatten()(flat), x)
    assert Unflatten(-1, 1, 28, 28)(torch.zeros(3, 784)).shape == (3, 1, 28, 28)


def test_initialize_weights_is_xavier_on_linear_and_transposed_conv_only():
    torch.manual_seed(0)
    linear, deconv, conv = nn.Linear(400, 300), nn.ConvTranspose2d(8, 4, 4), nn.Conv2d(8, 4, 4)
    conv_before = conv.weight.detach().clone()
    for layer in (linear, deconv, conv):
        initialize_weights(layer)
    bound = (6 / (400 + 300)) ** 0.5
    assert linear.weight.abs().max() <= bound and linear.weight.abs().max() > 0.95 * bound
    assert torch.equal(conv.weight, conv_before)
    fan_in, fan_out = 4 * 16, 8 * 16  # ConvTranspose2d weight (in, out, kh, kw)
    assert deconv.weight.abs().max() <= (6 / (fan_in + fan_out)) ** 0.5
