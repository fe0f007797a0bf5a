"""Soft-attention LSTM layers: gradient checks (float64, tiny) and torch built-ins as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vislab.numpy_nn import eval_numerical_gradient_array, rel_error
from vislab.numpy_nn.attention_lstm_layers import (
    attention_lstm_backward,
    attention_lstm_forward,
    attention_lstm_step_backward,
    attention_lstm_step_forward,
    soft_attention_backward,
    soft_attention_forward,
)
from vislab.torch_nn.attention_lstm import SoftAttentionLSTM, load_numpy_weights, numpy_gradients

N, T, W, L, D, H, A = 2, 4, 3, 5, 4, 3, 6
NAMES = ("Wx", "Wz", "Wh", "b", "W_a", "b_a", "W_ha", "w_att")
SHAPES = {
    "Wx": (W, 4 * H),
    "Wz": (D, 4 * H),
    "Wh": (H, 4 * H),
    "b": (4 * H,),
    "W_a": (D, A),
    "b_a": (A,),
    "W_ha": (H, A),
    "w_att": (A,),
}


def _params(rng):
    return {name: rng.standard_normal(SHAPES[name]) * 0.7 for name in NAMES}


def _numeric(f, value, dout):
    return eval_numerical_gradient_array(f, value, dout, h=1e-5)


def test_soft_attention_weights_sum_to_one_and_context_is_their_mix():
    rng = np.random.default_rng(0)
    features, projected = rng.standard_normal((N, L, D)), rng.standard_normal((N, L, A))
    z, alpha, _ = soft_attention_forward(
        features,
        projected,
        rng.standard_normal((N, H)),
        rng.standard_normal((H, A)),
        rng.standard_normal(A),
    )
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0, atol=1e-12)
    assert (alpha > 0).all()
    np.testing.assert_allclose(z, (alpha[:, :, None] * features).sum(axis=1), atol=1e-12)


def test_soft_attention_backward_gradcheck():
    rng = np.random.default_rng(1)
    inputs = [
        rng.standard_normal((N, L, D)),
        rng.standard_normal((N, L, A)),
        rng.standard_normal((N, H)),
        rng.standard_normal((H, A)),
        rng.standard_normal(A),
    ]
    z, _, cache = soft_attention_forward(*inputs)
    dz = rng.standard_normal(z.shape)
    grads = soft_attention_backward(dz, cache)
    for k, value in enumerate(inputs):

        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return soft_attention_forward(*args)[0]

        assert rel_error(_numeric(f, value, dz), grads[k]) < 1e-6, k


def test_attention_lstm_step_backward_gradcheck():
    rng = np.random.default_rng(2)
    p = _params(rng)
    inputs = [
        rng.standard_normal((N, W)),
        rng.standard_normal((N, H)),
        rng.standard_normal((N, H)),
        rng.standard_normal((N, L, D)),
        rng.standard_normal((N, L, A)),
    ] + [p[name] for name in ("Wx", "Wz", "Wh", "b", "W_ha", "w_att")]
    h, c, _, cache = attention_lstm_step_forward(*inputs)
    dh, dc = rng.standard_normal(h.shape), rng.standard_normal(c.shape)
    grads = attention_lstm_step_backward(dh, dc, cache)
    dout = np.concatenate([dh, dc], axis=1)
    for k, value in enumerate(inputs):

        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            next_h, next_c, _, _ = attention_lstm_step_forward(*args)
            return np.concatenate([next_h, next_c], axis=1)

        assert rel_error(_numeric(f, value, dout), grads[k]) < 1e-6, k


def test_attention_lstm_backward_gradcheck():
    rng = np.random.default_rng(3)
    p = _params(rng)
    inputs = [
        rng.standard_normal((N, T, W)),
        rng.standard_normal((N, L, D)),
        rng.standard_normal((N, H)),
    ] + [p[name] for name in NAMES]
    h, _, cache = attention_lstm_forward(*inputs)
    dh = rng.standard_normal(h.shape)
    grads = attention_lstm_backward(dh, cache)
    assert len(grads) == len(inputs)
    for k, value in enumerate(inputs):

        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return attention_lstm_forward(*args)[0]

        assert rel_error(_numeric(f, value, dh), grads[k]) < 1e-6, k


def test_sequence_equals_steps():
    rng = np.random.default_rng(4)
    p = _params(rng)
    x, features, h0 = (
        rng.standard_normal((N, T, W)),
        rng.standard_normal((N, L, D)),
        rng.standard_normal((N, H)),
    )
    h, alphas, _ = attention_lstm_forward(x, features, h0, *(p[n] for n in NAMES))
    projected = features @ p["W_a"] + p["b_a"]
    prev_h, prev_c = h0, np.zeros_like(h0)
    for t in range(T):
        prev_h, prev_c, alpha, _ = attention_lstm_step_forward(
            x[:, t],
            prev_h,
            prev_c,
            features,
            projected,
            *(p[n] for n in ("Wx", "Wz", "Wh", "b", "W_ha", "w_att")),
        )
        np.testing.assert_allclose(h[:, t], prev_h, atol=1e-12)
        np.testing.assert_allclose(alphas[:, t], alpha, atol=1e-12)


@pytest.mark.parametrize("seed", [5, 6])
def test_matches_torch_built_ins_forward_and_backward(seed):
    rng = np.random.default_rng(seed)
    p = _params(rng)
    x, features, h0 = (
        rng.standard_normal((N, T, W)),
        rng.standard_normal((N, L, D)),
        rng.standard_normal((N, H)),
    )
    module = SoftAttentionLSTM(W, D, H, A).double()
    load_numpy_weights(module, p)
    xt, ft, ht = (torch.from_numpy(a).requires_grad_() for a in (x, features, h0))
    h_t, alphas_t = module(xt, ft, ht)
    dh = rng.standard_normal(h_t.shape)
    h_t.backward(torch.from_numpy(dh))

    h, alphas, cache = attention_lstm_forward(x, features, h0, *(p[n] for n in NAMES))
    dx, dfeatures, dh0, *dweights = attention_lstm_backward(dh, cache)
    tolerance = {"rtol": 1e-9, "atol": 1e-11}
    np.testing.assert_allclose(h, h_t.detach().numpy(), **tolerance)
    np.testing.assert_allclose(alphas, alphas_t.detach().numpy(), **tolerance)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **tolerance)
    np.testing.assert_allclose(dfeatures, ft.grad.numpy(), **tolerance)
    np.testing.assert_allclose(dh0, ht.grad.numpy(), **tolerance)
    torch_grads = numpy_gradients(module, W)
    for name, grad in zip(NAMES, dweights, strict=True):
        np.testing.assert_allclose(grad, torch_grads[name], err_msg=name, **tolerance)


def test_float32_stays_float32():
    rng = np.random.default_rng(7)
    p = {k: v.astype(np.float32) for k, v in _params(rng).items()}
    x = rng.standard_normal((N, T, W), dtype=np.float32)
    features = rng.standard_normal((N, L, D), dtype=np.float32)
    h0 = rng.standard_normal((N, H), dtype=np.float32)
    h, alphas, cache = attention_lstm_forward(x, features, h0, *(p[n] for n in NAMES))
    assert h.dtype == alphas.dtype == np.float32
    assert all(g.dtype == np.float32 for g in attention_lstm_backward(np.ones_like(h), cache))
