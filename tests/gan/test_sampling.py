"""Generating from a generator: chunking changes nothing in eval mode; interpolation paths."""

from __future__ import annotations

import torch

from vislab.gan import build_models, sample_noise
from vislab.gan.sampling import generate, interpolation_noise


def test_generate_is_independent_of_chunking_and_keeps_train_mode():
    _, G = build_models("dc", noise_dim=6, seed=0)
    G.train()
    G(sample_noise(16, 6, seed=1))  # give BatchNorm some running statistics
    noise = sample_noise(10, 6, seed=2)
    whole, chunked = generate(G, noise, batch_size=10), generate(G, noise, batch_size=3)
    assert whole.shape == (10, 784) and torch.allclose(whole, chunked, atol=1e-6)
    assert G.training


def test_interpolation_runs_straight_between_endpoints():
    path = interpolation_noise(5, rows=3, steps=4, seed=0).view(3, 4, 5)
    assert torch.allclose(path[:, 1] - path[:, 0], path[:, 3] - path[:, 2], atol=1e-6)
    assert (path.abs() <= 1).all()
