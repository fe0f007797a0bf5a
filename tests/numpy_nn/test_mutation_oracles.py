"""Oracles for what mutation testing found open in numpy_nn: optimiser state kept in the
parameter's dtype, the array gradient checker on functions that return a view of their input,
the attention softmax shifted by each row's own maximum, the attention LSTM's backward pass
over a single step, the loss of float32 scores, and the gradient checker's default log."""

from __future__ import annotations

import logging

import numpy as np

from vislab.numpy_nn import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
    rmsprop,
    sgd_momentum,
)
from vislab.numpy_nn.attention_lstm_layers import (
    attention_lstm_backward,
    attention_lstm_forward,
    soft_attention_forward,
)
from vislab.numpy_nn.layers import temporal_softmax_loss

W64 = np.array([1.0, -0.5, 0.25])
DW32 = np.array([0.3, -1.7, 0.9], dtype=np.float32)  # float32 gradients of a float64 parameter


def test_sgd_momentum_velocity_keeps_the_parameter_dtype():
    next_w, config = sgd_momentum(W64, DW32)
    assert config["velocity"].dtype == np.float64
    dw = DW32.astype(np.float64)
    velocity = -1e-2 * DW32  # float32, as numpy scales a float32 array by a Python float
    np.testing.assert_array_equal(next_w, W64 + velocity.astype(np.float64))
    next_w, config = sgd_momentum(next_w, DW32, config)
    velocity = 0.9 * velocity.astype(np.float64) - (1e-2 * DW32).astype(np.float64)
    np.testing.assert_allclose(config["velocity"], velocity, rtol=1e-15)
    np.testing.assert_allclose(next_w, W64 - 1e-2 * dw - 0.019 * dw, rtol=1e-8)


def test_rmsprop_cache_keeps_the_parameter_dtype():
    next_w, config = rmsprop(W64, DW32)
    assert config["cache"].dtype == np.float64
    dw = DW32.astype(np.float64)
    cache = 0.01 * dw * dw  # (1 - decay_rate) dw^2 from a zero cache, in float64
    np.testing.assert_allclose(config["cache"], cache, rtol=1e-6)
    expected = W64 - 1e-2 * dw / (np.sqrt(cache) + 1e-8)
    np.testing.assert_allclose(next_w, expected, rtol=1e-6)


def test_array_gradient_of_a_function_returning_its_input():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    df = np.array([[1.0, 2.0], [-3.0, 0.5]])
    np.testing.assert_allclose(eval_numerical_gradient_array(lambda v: v, x, df), df, rtol=1e-8)
    # x[::-1] is a view: sum(x[::-1] * df) has gradient df[::-1].
    grad = eval_numerical_gradient_array(lambda v: v[::-1], x, df)
    np.testing.assert_allclose(grad, df[::-1], rtol=1e-8)
    np.testing.assert_array_equal(x, [[1.0, -2.0], [0.5, 3.0]])  # restored


def test_soft_attention_shifts_each_row_by_its_own_maximum():
    # u = tanh(projected): the first component is +1 in row 0 and -1 in row 1 (scores ~ +-1000),
    # the second varies over the regions, so alpha = softmax(tanh(projected[..., 1])) per row.
    second = np.array([[0.0, 0.5, -1.0], [1.0, -0.3, 0.2]])  # (N, L)
    first = np.array([[20.0] * 3, [-20.0] * 3])
    projected = np.stack([first, second], axis=-1)  # (N, L, A=2)
    features = np.arange(2 * 3 * 2, dtype=np.float64).reshape(2, 3, 2)  # (N, L, D=2)
    z, alpha, _ = soft_attention_forward(
        features, projected, np.zeros((2, 1)), np.zeros((1, 2)), np.array([1000.0, 1.0])
    )
    weights = np.exp(np.tanh(second))
    weights /= weights.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(alpha, weights, rtol=1e-12)
    np.testing.assert_allclose(z, np.einsum("nl,nld->nd", weights, features), rtol=1e-12)


def test_softmax_loss_of_float32_scores_is_summed_in_float32():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 5))
    y = rng.integers(5, size=(2, 4))
    mask = np.array([[True, True, False, True], [True, False, True, True]])
    loss64, _ = temporal_softmax_loss(x, y, mask)
    loss32, _ = temporal_softmax_loss(x.astype(np.float32), y, mask)
    assert abs(loss32 - loss64) < 1e-5 * loss64
    # The mask is cast to the scores' dtype: a float64 mask would give a float64 sum.
    assert float(np.float32(loss32)) == loss32


def test_numerical_gradient_logs_each_entry_by_default(caplog):
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    with caplog.at_level(logging.DEBUG, logger="vislab.numpy_nn.gradcheck"):
        grad = eval_numerical_gradient(lambda v: float(np.sum(v**3)), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-9)  # d/dx sum(x^3) = 3 x^2
    indices = [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [r.getMessage() for r in caplog.records] == [f"{i} {grad[i]}" for i in indices]
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="vislab.numpy_nn.gradcheck"):
        eval_numerical_gradient(lambda v: float(np.sum(v**3)), x, verbose=False)
    assert caplog.records == []


def test_attention_lstm_backward_gradcheck_on_a_single_step():
    # T = 1: one caption word, so the cache holds one attention step.
    rng = np.random.default_rng(5)
    N, W, L, D, H, A = 2, 3, 3, 2, 2, 4
    shapes = [(N, 1, W), (N, L, D), (N, H), (W, 4 * H), (D, 4 * H), (H, 4 * H), (4 * H,)]
    shapes += [(D, A), (A,), (H, A), (A,)]
    inputs = [rng.standard_normal(shape) * 0.7 for shape in shapes]
    h, _, cache = attention_lstm_forward(*inputs)
    dh = rng.standard_normal(h.shape)
    grads = attention_lstm_backward(dh, cache)
    for k, value in enumerate(inputs):

        def f(v, k=k):
            return attention_lstm_forward(*inputs[:k], v, *inputs[k + 1 :])[0]

        assert rel_error(eval_numerical_gradient_array(f, value, dh), grads[k]) < 1e-7, k
