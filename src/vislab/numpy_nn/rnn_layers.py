"""The vanilla RNN: h_t = tanh(x_t Wx + h_{t-1} Wh + b), one step and a whole sequence.

Only h_{t-1} Wh (forward) and da_t Wh^T (backward) stay inside the time loop.
"""

from __future__ import annotations

import numpy as np


def rnn_step_forward(
    x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple]:
    """next_h = tanh(x Wx + prev_h Wh + b).

    x: (N, D) input; prev_h: (N, H) previous hidden state; Wx: (D, H); Wh: (H, H); b: (H,).
    Returns next_h: (N, H) and the cache for `rnn_step_backward`.
    """
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Gradients of one step: dnext_h (N, H) -> dx (N, D), dprev_h (N, H), dWx, dWh, db."""
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h * next_h)  # (N, H), through tanh
    # dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_forward(
    x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple]:
    """Run the RNN over a sequence.

    x: (N, T, D) inputs; h0: (N, H) initial hidden state; Wx: (D, H); Wh: (H, H); b: (H,).
    Returns h: (N, T, H) hidden states and the cache for `rnn_backward`.
    """
    N, T, D = x.shape
    # (T, N, D), time-major: each step reads one contiguous (N, D) block
    x_time = np.ascontiguousarray(x.transpose(1, 0, 2))
    # (T*N, D) @ (D, H) -> (T, N, H): x Wx for all steps in one matmul, outside the loop
    hs = (x_time.reshape(T * N, D) @ Wx).reshape(T, N, -1)
    hs += b
    prev_h = h0
    for t in range(T):
        step = hs[t]
        step += prev_h @ Wh
        np.tanh(step, out=step)
        prev_h = step
    return hs.transpose(1, 0, 2), (x_time, h0, Wx, Wh, hs)  # h: (T, N, H) -> (N, T, H)


def rnn_backward(dh: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backpropagation through time.

    dh: (N, T, H) upstream gradients of every hidden state.
    Returns dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    x_time, h0, Wx, Wh, hs = cache
    T, N, H = hs.shape
    da = np.ascontiguousarray(dh.transpose(1, 0, 2))  # (T, N, H), becomes d(pre-activation)
    dprev_h = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        step = da[t]
        step += dprev_h
        step *= 1 - hs[t] * hs[t]
        # (Wh da_t^T)^T: OpenBLAS runs this skinny product faster than da_t Wh^T.
        dprev_h = (Wh @ step.T).T  # (N, H)
    da_flat = da.reshape(T * N, H)  # (T*N, H): the weight gradients in one matmul each
    dx = (da_flat @ Wx.T).reshape(T, N, -1).transpose(1, 0, 2)  # (T*N, D) -> (N, T, D)
    dWx = x_time.reshape(T * N, -1).T @ da_flat  # (D, T*N) @ (T*N, H) -> (D, H)
    # Previous states: h0 then h_1..h_{T-1}; dWh = sum_t h_{t-1}^T da_t.
    dWh = h0.T @ da[0] + hs[:-1].reshape((T - 1) * N, H).T @ da[1:].reshape((T - 1) * N, H)
    return dx, np.ascontiguousarray(dprev_h), dWx, dWh, da_flat.sum(axis=0)
