"""Vanilla RNN, word embedding, temporal affine, softmax loss: seed numbers and grad checks."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.numpy_nn import (
    affine_backward,
    affine_forward,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    sigmoid,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)


def test_rnn_step_forward_matches_seed():
    N, D, H = 3, 10, 4
    x = np.linspace(-0.4, 0.7, num=N * D).reshape(N, D)
    prev_h = np.linspace(-0.2, 0.5, num=N * H).reshape(N, H)
    Wx = np.linspace(-0.1, 0.9, num=D * H).reshape(D, H)
    Wh = np.linspace(-0.3, 0.7, num=H * H).reshape(H, H)
    b = np.linspace(-0.2, 0.4, num=H)
    next_h, _ = rnn_step_forward(x, prev_h, Wx, Wh, b)
    expected = np.asarray(
        [
            [-0.58172089, -0.50182032, -0.41232771, -0.31410098],
            [0.66854692, 0.79562378, 0.87755553, 0.92795967],
            [0.97934501, 0.99144213, 0.99646691, 0.99854353],
        ]
    )
    assert rel_error(expected, next_h) < 1e-7


def test_rnn_step_backward_gradcheck():
    rng = np.random.default_rng(231)
    N, D, H = 4, 5, 6
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, H)), rng.standard_normal((H, H)), rng.standard_normal(H)
    out, cache = rnn_step_forward(x, h, Wx, Wh, b)
    dnext_h = rng.standard_normal(out.shape)
    grads = rnn_step_backward(dnext_h, cache)
    inputs = [x, h, Wx, Wh, b]
    for k, (value, grad) in enumerate(zip(inputs, grads, strict=True)):

        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return rnn_step_forward(*args)[0]

        assert rel_error(eval_numerical_gradient_array(f, value, dnext_h), grad) < 1e-7


def test_rnn_forward_matches_seed():
    N, T, D, H = 2, 3, 4, 5
    x = np.linspace(-0.1, 0.3, num=N * T * D).reshape(N, T, D)
    h0 = np.linspace(-0.3, 0.1, num=N * H).reshape(N, H)
    Wx = np.linspace(-0.2, 0.4, num=D * H).reshape(D, H)
    Wh = np.linspace(-0.4, 0.1, num=H * H).reshape(H, H)
    b = np.linspace(-0.7, 0.1, num=H)
    h, _ = rnn_forward(x, h0, Wx, Wh, b)
    expected = np.asarray(
        [
            [
                [-0.42070749, -0.27279261, -0.11074945, 0.05740409, 0.22236251],
                [-0.39525808, -0.22554661, -0.0409454, 0.14649412, 0.32397316],
                [-0.42305111, -0.24223728, -0.04287027, 0.15997045, 0.35014525],
            ],
            [
                [-0.55857474, -0.39065825, -0.19198182, 0.02378408, 0.23735671],
                [-0.27150199, -0.07088804, 0.13562939, 0.33099728, 0.50158768],
                [-0.51014825, -0.30524429, -0.06755202, 0.17806392, 0.40333043],
            ],
        ]
    )
    assert rel_error(expected, h) < 1e-6


def test_rnn_backward_gradcheck():
    rng = np.random.default_rng(231)
    N, D, T, H = 2, 3, 10, 5
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, H)), rng.standard_normal((H, H)), rng.standard_normal(H)
    out, cache = rnn_forward(x, h0, Wx, Wh, b)
    dout = rng.standard_normal(out.shape)
    grads = rnn_backward(dout, cache)
    inputs = [x, h0, Wx, Wh, b]
    for k, (value, grad) in enumerate(zip(inputs, grads, strict=True)):

        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return rnn_forward(*args)[0]

        assert rel_error(eval_numerical_gradient_array(f, value, dout), grad) < 1e-6


def test_rnn_forward_equals_steps_and_leaves_inputs_untouched():
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 5))
    Wx, Wh, b = rng.standard_normal((2, 5)), rng.standard_normal((5, 5)), rng.standard_normal(5)
    copies = [a.copy() for a in (x, h0, Wx, Wh, b)]
    h, _ = rnn_forward(x, h0, Wx, Wh, b)
    prev = h0
    for t in range(4):
        prev, _ = rnn_step_forward(x[:, t], prev, Wx, Wh, b)
        np.testing.assert_allclose(h[:, t], prev, rtol=1e-12)
    for original, copy in zip((x, h0, Wx, Wh, b), copies, strict=True):
        np.testing.assert_array_equal(original, copy)


def test_word_embedding_matches_seed():
    V, D = 5, 3
    x = np.asarray([[0, 3, 1, 2], [2, 1, 0, 3]])
    W = np.linspace(0, 1, num=V * D).reshape(V, D)
    out, _ = word_embedding_forward(x, W)
    expected = np.asarray(
        [
            [[0.0, 0.07142857, 0.14285714], [0.64285714, 0.71428571, 0.78571429]]
            + [[0.21428571, 0.28571429, 0.35714286], [0.42857143, 0.5, 0.57142857]],
            [[0.42857143, 0.5, 0.57142857], [0.21428571, 0.28571429, 0.35714286]]
            + [[0.0, 0.07142857, 0.14285714], [0.64285714, 0.71428571, 0.78571429]],
        ]
    )
    assert rel_error(expected, out) < 1e-7


@pytest.mark.parametrize("V", [5, 40])  # 40 > number of positions: unused words get 0
def test_word_embedding_backward_gradcheck_and_matches_add_at(V):
    rng = np.random.default_rng(231)
    N, T, D = 10, 3, 6
    x = rng.integers(V, size=(N, T))
    W = rng.standard_normal((V, D))
    out, cache = word_embedding_forward(x, W)
    dout = rng.standard_normal(out.shape)
    dW = word_embedding_backward(dout, cache)
    num = eval_numerical_gradient_array(lambda w: word_embedding_forward(x, w)[0], W, dout)
    assert rel_error(dW, num) < 1e-9
    reference = np.zeros_like(W)
    np.add.at(reference, x, dout)
    np.testing.assert_allclose(dW, reference, rtol=1e-12, atol=1e-12)


def test_temporal_affine_gradcheck():
    rng = np.random.default_rng(231)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    out, cache = temporal_affine_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = temporal_affine_backward(dout, cache)
    assert (
        rel_error(
            eval_numerical_gradient_array(lambda v: temporal_affine_forward(v, w, b)[0], x, dout),
            dx,
        )
        < 1e-8
    )
    assert (
        rel_error(
            eval_numerical_gradient_array(lambda v: temporal_affine_forward(x, v, b)[0], w, dout),
            dw,
        )
        < 1e-8
    )
    assert (
        rel_error(
            eval_numerical_gradient_array(lambda v: temporal_affine_forward(x, w, v)[0], b, dout),
            db,
        )
        < 1e-8
    )


@pytest.mark.parametrize(
    ("N", "T", "p", "low", "high"),
    [(100, 1, 1.0, 2.25, 2.35), (100, 10, 1.0, 22.5, 23.5), (5000, 10, 0.1, 2.2, 2.4)],
)
def test_temporal_softmax_loss_sanity(N, T, p, low, high):
    rng = np.random.default_rng(0)
    x = 0.001 * rng.standard_normal((N, T, 10))
    y = rng.integers(10, size=(N, T))
    mask = rng.random((N, T)) <= p
    assert low < temporal_softmax_loss(x, y, mask)[0] < high


def test_temporal_softmax_loss_gradcheck():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 8, 9))
    y = rng.integers(9, size=(7, 8))
    mask = rng.random((7, 8)) > 0.5
    x_copy = x.copy()
    _, dx = temporal_softmax_loss(x, y, mask)
    np.testing.assert_array_equal(x, x_copy)
    num = eval_numerical_gradient(lambda v: temporal_softmax_loss(v, y, mask)[0], x, verbose=False)
    assert rel_error(dx, num) < 1e-7


def test_affine_gradcheck_flattens_extra_dims():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)
    out, cache = affine_forward(x, w, b)
    assert out.shape == (4, 5)
    dout = rng.standard_normal(out.shape)
    grads = affine_backward(dout, cache)
    inputs = [x, w, b]
    for k, (value, grad) in enumerate(zip(inputs, grads, strict=True)):

        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return affine_forward(*args)[0]

        assert rel_error(eval_numerical_gradient_array(f, value, dout), grad) < 1e-8


def test_sigmoid_is_stable_and_exact():
    x = np.array([-1000.0, -30.0, 0.0, 2.0, 1000.0])
    with np.errstate(over="raise"):
        y = sigmoid(x)
    np.testing.assert_allclose(y[1:4], 1 / (1 + np.exp(-x[1:4])), rtol=1e-12)
    assert y[0] == 0.0 and y[4] == 1.0
    assert sigmoid(np.float32(3)).dtype == np.float32
