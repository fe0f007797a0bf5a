"""Update rules: torch's optimisers as the oracle, inputs untouched, the course's defaults."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vislab.numpy_nn import adam, rmsprop, sgd, sgd_momentum


def _run_numpy(rule, config, steps, w, grads):
    for dw in grads[:steps]:
        w_before = w.copy()
        next_w, config = rule(w, dw, config)
        np.testing.assert_array_equal(w, w_before)  # the rule returns a new array
        w = next_w
    return w


@pytest.mark.parametrize(
    ("rule", "config", "make_torch"),
    [
        (sgd, {"learning_rate": 0.1}, lambda p: torch.optim.SGD(p, lr=0.1)),
        (sgd_momentum, {"learning_rate": 0.1}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        (adam, {"learning_rate": 0.05}, lambda p: torch.optim.Adam(p, lr=0.05)),
    ],
)
def test_matches_torch(rule, config, make_torch):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 5))
    grads = [rng.standard_normal((4, 5)) for _ in range(6)]
    ours = _run_numpy(rule, dict(config), 6, w, grads)
    parameter = torch.nn.Parameter(torch.from_numpy(w.copy()))
    optimizer = make_torch([parameter])
    for dw in grads:
        parameter.grad = torch.from_numpy(dw)
        optimizer.step()
    np.testing.assert_allclose(ours, parameter.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_rmsprop_first_step_and_defaults():
    w, dw = np.ones(3), np.array([1.0, -2.0, 0.5])
    next_w, config = rmsprop(w, dw)
    expected = w - 1e-2 * dw / (np.sqrt(0.01 * dw * dw) + 1e-8)
    np.testing.assert_allclose(next_w, expected, rtol=1e-12)
    assert config["decay_rate"] == 0.99


def test_adam_defaults_and_float32():
    w = np.ones(3, dtype=np.float32)
    next_w, config = adam(w, np.ones(3, dtype=np.float32))
    assert (config["learning_rate"], config["beta1"], config["beta2"], config["epsilon"]) == (
        1e-3,
        0.9,
        0.999,
        1e-8,
    )
    assert config["t"] == 1 and next_w.dtype == np.float32
    np.testing.assert_allclose(next_w, 1 - 1e-3, rtol=1e-6)
