"""What the layer and optimiser tests left open (found by mutation testing): the update rules'
defaults and carried state over several steps, the stable sigmoid on both sides of zero, the
softmax loss on scores too large for a naive exp, dtypes kept in float32, and the gradient
checker's own helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vislab.numpy_nn import (
    adam,
    eval_numerical_gradient_array,
    rel_error,
    rmsprop,
    sgd,
    sgd_momentum,
    sigmoid,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

GRADS = np.random.default_rng(0).standard_normal((4, 5))


def run(rule, w, config=None):
    """Four steps from `config` (None: the rule's defaults), each step fed the last config."""
    for dw in GRADS:
        w, config = rule(w, dw, config)
    return w


def by_torch(make, w):
    parameter = torch.nn.Parameter(torch.tensor(w))
    optimizer = make([parameter])
    for dw in GRADS:
        optimizer.zero_grad()
        parameter.grad = torch.tensor(dw)
        optimizer.step()
    return parameter.detach().numpy()


@pytest.mark.parametrize(
    ("rule", "make"),
    [
        (sgd, lambda p: torch.optim.SGD(p, lr=1e-2)),
        (sgd_momentum, lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9)),
        (rmsprop, lambda p: torch.optim.RMSprop(p, lr=1e-2, alpha=0.99, eps=1e-8)),
        (adam, lambda p: torch.optim.Adam(p, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)),
    ],
)
def test_four_steps_from_the_defaults_match_torch(rule, make):
    w = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(run(rule, w), by_torch(make, w), rtol=1e-10, atol=1e-12)


def test_rmsprop_carries_its_cache_and_reads_a_given_config():
    w = np.linspace(-1, 1, 5)
    config = {"learning_rate": 0.05, "decay_rate": 0.9}
    expected = by_torch(lambda p: torch.optim.RMSprop(p, lr=0.05, alpha=0.9, eps=1e-8), w)
    np.testing.assert_allclose(run(rmsprop, w, config), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        config["cache"], sum(0.9 ** (3 - k) * 0.1 * GRADS[k] ** 2 for k in range(4)), rtol=1e-12
    )


def test_sigmoid_on_both_sides_of_zero():
    x = np.array([-30.0, -5.0, -0.7, -1e-3, 0.0, 1e-3, 0.3, 0.7, 5.0, 30.0])
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-14)
    assert sigmoid(np.float32([0.5])).dtype == np.float32


def test_softmax_loss_shifts_each_row_by_its_own_maximum():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4))
    y = rng.integers(4, size=(2, 3))
    mask = np.ones((2, 3), dtype=bool)
    loss, dx = temporal_softmax_loss(x, y, mask)
    # Rows a thousand apart: a naive exp overflows, a shared shift underflows.
    far = x + np.array([1000.0, -1000.0])[:, None, None]
    far_loss, far_dx = temporal_softmax_loss(far, y, mask)
    assert far_loss == pytest.approx(loss, rel=1e-9)
    np.testing.assert_allclose(far_dx, dx, atol=1e-12)
    loss32, dx32 = temporal_softmax_loss(x.astype(np.float32), y, mask)
    assert dx32.dtype == np.float32 and loss32 == pytest.approx(loss, rel=1e-5)


def test_word_embedding_backward_keeps_float32():
    x = np.array([[0, 2, 2], [1, 0, 2]])
    W = np.zeros((4, 3), dtype=np.float32)
    _, cache = word_embedding_forward(x, W)
    dout = np.ones((2, 3, 3), dtype=np.float32)
    dW = word_embedding_backward(dout, cache)
    assert dW.dtype == np.float32
    np.testing.assert_array_equal(dW[:, 0], [2, 1, 3, 0])


def test_rel_error_values():
    assert rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert rel_error(np.array([1e-7]), np.array([3e-7])) == pytest.approx(0.5)
    assert rel_error(np.array([1e-9]), np.array([3e-9])) == pytest.approx(0.2)  # floor 1e-8
    assert rel_error(np.array([0.0, 2.0]), np.array([0.0, 2.0])) == 0.0


def test_array_gradient_of_a_function_that_reuses_its_output_buffer():
    buffer = np.empty(3)

    def f(x):  # writes into the same array every call, as in-place layers do
        np.multiply(x, x, out=buffer)
        return buffer

    x = np.array([1.0, -2.0, 0.5])
    grad = eval_numerical_gradient_array(f, x, np.ones(3))
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8)
