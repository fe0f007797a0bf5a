"""The LSTM: gates a = x Wx + h_{t-1} Wh + b split into consecutive blocks i, f, o, g.

    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c_t = f * c_{t-1} + i * g;                           h_t = o * tanh(c_t)

The four gate matmuls are one (.., 4H) matmul; only h_{t-1} Wh (forward) and da_t Wh^T
(backward) stay inside the time loop.
"""

from __future__ import annotations

import numpy as np


def _gates(a: np.ndarray) -> np.ndarray:
    """Pre-activations (N, 4H) -> activations [i, f, o, g] (N, 4H), in place."""
    H = a.shape[1] // 4
    ifo = a[:, : 3 * H]
    ifo *= 0.5  # sigmoid(x) = (1 + tanh(x/2)) / 2, stable and in place
    np.tanh(ifo, out=ifo)
    ifo *= 0.5
    ifo += 0.5
    np.tanh(a[:, 3 * H :], out=a[:, 3 * H :])
    return a


def lstm_step_forward(
    x: np.ndarray,
    prev_h: np.ndarray,
    prev_c: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, tuple]:
    """One LSTM step.

    x: (N, D) input; prev_h, prev_c: (N, H) previous hidden and cell state;
    Wx: (D, 4H); Wh: (H, 4H); b: (4H,). Returns next_h, next_c: (N, H) and the cache.
    """
    H = prev_h.shape[1]
    gates = _gates(x @ Wx + prev_h @ Wh + b)  # (N, 4H): i, f, o, g
    i, f, o, g = (gates[:, k * H : (k + 1) * H] for k in range(4))
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, gates, tanh_c)


def _step_gate_grads(dnext_h, dnext_c, prev_c, gates, tanh_c, out):
    """d(pre-activations) of one step into `out` (N, 4H); returns dprev_c (N, H)."""
    H = prev_c.shape[1]
    i, f, o, g = (gates[:, k * H : (k + 1) * H] for k in range(4))
    dc = dnext_h * o
    dc *= 1 - tanh_c * tanh_c
    dc += dnext_c  # (N, H) total gradient of c_t
    np.multiply(dc, g, out=out[:, :H])  # di
    np.multiply(dc, prev_c, out=out[:, H : 2 * H])  # df
    np.multiply(dnext_h, tanh_c, out=out[:, 2 * H : 3 * H])  # do
    np.multiply(dc, i, out=out[:, 3 * H :])  # dg
    ifo = gates[:, : 3 * H]
    out[:, : 3 * H] *= ifo * (1 - ifo)  # through the sigmoids
    out[:, 3 * H :] *= 1 - g * g  # through tanh
    dc *= f
    return dc


def lstm_step_backward(
    dnext_h: np.ndarray, dnext_c: np.ndarray, cache: tuple
) -> tuple[np.ndarray, ...]:
    """Gradients of one step: dnext_h, dnext_c (N, H) ->
    dx (N, D), dprev_h (N, H), dprev_c (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,)."""
    x, prev_h, prev_c, Wx, Wh, gates, tanh_c = cache
    da = np.empty_like(gates)
    dprev_c = _step_gate_grads(dnext_h, dnext_c, prev_c, gates, tanh_c, da)
    # dx (N, D), dprev_h (N, H), dprev_c (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,)
    return da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_forward(
    x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple]:
    """Run the LSTM over a sequence; the cell state starts at zero.

    x: (N, T, D) inputs; h0: (N, H) initial hidden state; Wx: (D, 4H); Wh: (H, 4H); b: (4H,).
    Returns h: (N, T, H) hidden states and the cache for `lstm_backward`.
    """
    N, T, D = x.shape
    H = h0.shape[1]
    # (T, N, D), time-major: each step reads one contiguous (N, D) block
    x_time = np.ascontiguousarray(x.transpose(1, 0, 2))
    # (T*N, D) @ (D, 4H) -> (T, N, 4H): x Wx for all steps in one matmul, outside the loop
    gates = (x_time.reshape(T * N, D) @ Wx).reshape(T, N, 4 * H)
    gates += b
    cs = np.empty((T, N, H), dtype=gates.dtype)
    tanh_cs = np.empty_like(cs)
    hs = np.empty_like(cs)
    prev_h, prev_c = h0, np.zeros_like(h0)
    for t in range(T):
        step = gates[t]
        step += prev_h @ Wh
        _gates(step)
        np.multiply(step[:, H : 2 * H], prev_c, out=cs[t])
        cs[t] += step[:, :H] * step[:, 3 * H :]
        np.tanh(cs[t], out=tanh_cs[t])
        np.multiply(step[:, 2 * H : 3 * H], tanh_cs[t], out=hs[t])
        prev_h, prev_c = hs[t], cs[t]
    # h: (T, N, H) -> (N, T, H)
    return hs.transpose(1, 0, 2), (x_time, h0, Wx, Wh, gates, cs, tanh_cs, hs)


def lstm_backward(dh: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backpropagation through time.

    dh: (N, T, H) upstream gradients of every hidden state.
    Returns dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    x_time, h0, Wx, Wh, gates, cs, tanh_cs, hs = cache
    T, N, H = hs.shape
    dh_time = dh.transpose(1, 0, 2)  # (T, N, H)
    da = np.empty_like(gates)  # (T, N, 4H) d(pre-activations)
    dprev_h = np.zeros_like(h0)
    dprev_c = np.zeros_like(h0)
    zeros = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        prev_c = cs[t - 1] if t > 0 else zeros
        dprev_c = _step_gate_grads(
            dh_time[t] + dprev_h, dprev_c, prev_c, gates[t], tanh_cs[t], da[t]
        )
        # (Wh da_t^T)^T: OpenBLAS runs this skinny product ~1.5x faster than da_t Wh^T.
        dprev_h = (Wh @ da[t].T).T  # (N, H)
    da_flat = da.reshape(T * N, 4 * H)  # (T*N, 4H): the weight gradients in one matmul each
    dx = (da_flat @ Wx.T).reshape(T, N, -1).transpose(1, 0, 2)  # (T*N, D) -> (N, T, D)
    dWx = x_time.reshape(T * N, -1).T @ da_flat  # (D, T*N) @ (T*N, 4H) -> (D, 4H)
    # h_{t-1}^T da_t summed over t: h0 for t = 0, then (H, (T-1)*N) @ ((T-1)*N, 4H)
    dWh = h0.T @ da[0] + hs[:-1].reshape((T - 1) * N, H).T @ da[1:].reshape((T - 1) * N, 4 * H)
    return dx, np.ascontiguousarray(dprev_h), dWx, dWh, da_flat.sum(axis=0)
