"""LSTM layers: the course's LSTM-notebook numbers, gradient checks, torch as the oracle."""

from __future__ import annotations

import numpy as np
import torch

from vislab.numpy_nn import (
    eval_numerical_gradient_array,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    rel_error,
    rnn_forward,
)


def _check_all(forward, backward_grads, inputs, dout, tolerance):
    for k, (value, grad) in enumerate(zip(inputs, backward_grads, strict=True)):

        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return forward(*args)

        assert rel_error(eval_numerical_gradient_array(f, value, dout), grad) < tolerance, k


def test_lstm_step_forward_matches_course():
    N, D, H = 3, 4, 5
    x = np.linspace(-0.4, 1.2, num=N * D).reshape(N, D)
    prev_h = np.linspace(-0.3, 0.7, num=N * H).reshape(N, H)
    prev_c = np.linspace(-0.4, 0.9, num=N * H).reshape(N, H)
    Wx = np.linspace(-2.1, 1.3, num=4 * D * H).reshape(D, 4 * H)
    Wh = np.linspace(-0.7, 2.2, num=4 * H * H).reshape(H, 4 * H)
    b = np.linspace(0.3, 0.7, num=4 * H)
    next_h, _, _ = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    expected_h = np.asarray(
        [
            [0.24635157, 0.28610883, 0.32240467, 0.35525807, 0.38474904],
            [0.49223563, 0.55611431, 0.61507696, 0.66844003, 0.7159181],
            [0.56735664, 0.66310127, 0.74419266, 0.80889665, 0.858299],
        ]
    )
    assert rel_error(expected_h, next_h) < 1e-7


def test_lstm_forward_matches_course():
    N, D, H, T = 2, 5, 4, 3
    x = np.linspace(-0.4, 0.6, num=N * T * D).reshape(N, T, D)
    h0 = np.linspace(-0.4, 0.8, num=N * H).reshape(N, H)
    Wx = np.linspace(-0.2, 0.9, num=4 * D * H).reshape(D, 4 * H)
    Wh = np.linspace(-0.3, 0.6, num=4 * H * H).reshape(H, 4 * H)
    b = np.linspace(0.2, 0.7, num=4 * H)
    h, _ = lstm_forward(x, h0, Wx, Wh, b)
    expected = np.asarray(
        [
            [
                [0.01764008, 0.01823233, 0.01882671, 0.0194232],
                [0.11287491, 0.12146228, 0.13018446, 0.13902939],
                [0.31358768, 0.33338627, 0.35304453, 0.37250975],
            ],
            [
                [0.45767879, 0.4761092, 0.4936887, 0.51041945],
                [0.6704845, 0.69350089, 0.71486014, 0.7346449],
                [0.81733511, 0.83677871, 0.85403753, 0.86935314],
            ],
        ]
    )
    assert rel_error(expected, h) < 1e-7


def test_lstm_step_backward_gradcheck():
    rng = np.random.default_rng(231)
    N, D, H = 4, 5, 6
    x, prev_h, prev_c = (rng.standard_normal(s) for s in [(N, D), (N, H), (N, H)])
    Wx, Wh, b = (
        rng.standard_normal((D, 4 * H)),
        rng.standard_normal((H, 4 * H)),
        rng.standard_normal(4 * H),
    )
    next_h, next_c, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    dnext_h, dnext_c = rng.standard_normal(next_h.shape), rng.standard_normal(next_c.shape)
    dx, dh, dc, dWx, dWh, db = lstm_step_backward(dnext_h, dnext_c, cache)
    inputs = [x, prev_h, prev_c, Wx, Wh, b]
    grads = [dx, dh, dc, dWx, dWh, db]
    for k, (value, grad) in enumerate(zip(inputs, grads, strict=True)):

        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            h, c, _ = lstm_step_forward(*args)
            return np.concatenate([h, c], axis=1)

        dout = np.concatenate([dnext_h, dnext_c], axis=1)
        assert rel_error(eval_numerical_gradient_array(f, value, dout), grad) < 1e-6, k


def test_lstm_backward_gradcheck():
    rng = np.random.default_rng(231)
    N, D, T, H = 2, 3, 10, 6
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = (
        rng.standard_normal((D, 4 * H)),
        rng.standard_normal((H, 4 * H)),
        rng.standard_normal(4 * H),
    )
    out, cache = lstm_forward(x, h0, Wx, Wh, b)
    dout = rng.standard_normal(out.shape)
    grads = lstm_backward(dout, cache)
    _check_all(lambda *a: lstm_forward(*a)[0], grads, [x, h0, Wx, Wh, b], dout, 1e-6)


def _to_torch_ifgo(W: np.ndarray) -> torch.Tensor:
    """Our gate blocks i, f, o, g -> torch's i, f, g, o, transposed to torch's (4H, in)."""
    i, f, o, g = np.split(W, 4, axis=-1)
    return torch.from_numpy(np.concatenate([i, f, g, o], axis=-1).T.copy())


def test_lstm_matches_torch_lstm_forward_and_backward():
    rng = np.random.default_rng(0)
    N, T, D, H = 3, 5, 4, 6
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = (
        rng.standard_normal((D, 4 * H)),
        rng.standard_normal((H, 4 * H)),
        rng.standard_normal(4 * H),
    )
    lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(_to_torch_ifgo(Wx))
        lstm.weight_hh_l0.copy_(_to_torch_ifgo(Wh))
        lstm.bias_ih_l0.copy_(_to_torch_ifgo(b[None]).reshape(-1))
        lstm.bias_hh_l0.zero_()
    xt = torch.from_numpy(x).requires_grad_()
    h0t = torch.from_numpy(h0)[None].requires_grad_()
    out_t, _ = lstm(xt, (h0t, torch.zeros_like(h0t)))
    dout = rng.standard_normal((N, T, H))
    out_t.backward(torch.from_numpy(dout))
    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    dx, dh0, dWx, dWh, db = lstm_backward(dout, cache)
    np.testing.assert_allclose(h, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dh0, h0t.grad[0].numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        _to_torch_ifgo(dWx).numpy(), lstm.weight_ih_l0.grad.numpy(), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        _to_torch_ifgo(dWh).numpy(), lstm.weight_hh_l0.grad.numpy(), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        _to_torch_ifgo(db[None]).numpy().ravel(),
        lstm.bias_ih_l0.grad.numpy(),
        rtol=1e-10,
        atol=1e-12,
    )


def test_rnn_matches_torch_rnn():
    rng = np.random.default_rng(1)
    N, T, D, H = 3, 5, 4, 6
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, H)), rng.standard_normal((H, H)), rng.standard_normal(H)
    rnn = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(Wx.T.copy()))
        rnn.weight_hh_l0.copy_(torch.from_numpy(Wh.T.copy()))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
    out_t, _ = rnn(torch.from_numpy(x), torch.from_numpy(h0)[None])
    h, _ = rnn_forward(x, h0, Wx, Wh, b)
    np.testing.assert_allclose(h, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    x, h0 = (
        rng.standard_normal((2, 3, 4), dtype=np.float32),
        rng.standard_normal((2, 5), dtype=np.float32),
    )
    Wx, Wh = (
        rng.standard_normal((4, 20), dtype=np.float32),
        rng.standard_normal((5, 20), dtype=np.float32),
    )
    b = np.zeros(20, dtype=np.float32)
    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    assert h.dtype == np.float32
    assert all(g.dtype == np.float32 for g in lstm_backward(np.ones_like(h), cache))


def test_lstm_step_matches_torch_lstm_cell():
    rng = np.random.default_rng(4)
    N, D, H = 3, 4, 5
    x, prev_h, prev_c = (rng.standard_normal(s) for s in [(N, D), (N, H), (N, H)])
    Wx, Wh = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H))
    b = rng.standard_normal(4 * H)
    cell = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(_to_torch_ifgo(Wx))
        cell.weight_hh.copy_(_to_torch_ifgo(Wh))
        cell.bias_ih.copy_(_to_torch_ifgo(b[None]).reshape(-1))
        cell.bias_hh.zero_()
    h_t, c_t = cell(torch.from_numpy(x), (torch.from_numpy(prev_h), torch.from_numpy(prev_c)))
    next_h, next_c, _ = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    np.testing.assert_allclose(next_h, h_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(next_c, c_t.detach().numpy(), rtol=1e-10, atol=1e-12)
