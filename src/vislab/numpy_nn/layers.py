"""Feed-forward numpy layers of the captioner: affine, temporal affine, embedding, softmax loss.

Every layer is a pair of pure functions: `*_forward(...) -> (out, cache)` and
`*_backward(dout, cache) -> grads`. Arrays keep the dtype they come in (float32 or float64).
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function 1 / (1 + e^-x): exp only ever sees -|x| <= 0.

    Full relative precision in both tails (the LSTM's gates use the cheaper, absolutely
    accurate (1 + tanh(x / 2)) / 2 instead).
    """
    x = np.asarray(x)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """out = x w + b, with x flattened per example.

    x: (N, d_1, ..., d_k) input, flattened to (N, D); w: (D, M) weights; b: (M,) bias.
    Returns out: (N, M).
    """
    out = x.reshape(x.shape[0], -1) @ w + b  # (N, D) @ (D, M) -> (N, M)
    return out, (x, w)


def affine_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of `affine_forward`: dout (N, M) -> dx (N, d_1, ..., d_k), dw (D, M), db (M,)."""
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)  # (N, D) -> (N, d_1, ..., d_k)
    dw = x.reshape(x.shape[0], -1).T @ dout  # (D, N) @ (N, M) -> (D, M)
    return dx, dw, dout.sum(axis=0)


def temporal_affine_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple]:
    """The same affine map at every time step: out[n, t] = x[n, t] w + b.

    x: (N, T, D) inputs; w: (D, M) weights; b: (M,) bias. Returns out: (N, T, M).
    All N*T steps go through one matmul.
    """
    N, T, D = x.shape
    out = (x.reshape(N * T, D) @ w).reshape(N, T, -1)  # (N*T, D) @ (D, M) -> (N, T, M)
    out += b
    return out, (x, w)


def temporal_affine_backward(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of `temporal_affine_forward`: dout (N, T, M) -> dx (N, T, D), dw, db."""
    x, w = cache
    N, T, D = x.shape
    dout_flat = dout.reshape(N * T, -1)  # (N*T, M)
    dx = (dout_flat @ w.T).reshape(N, T, D)  # (N*T, D) -> (N, T, D)
    dw = x.reshape(N * T, D).T @ dout_flat  # (D, N*T) @ (N*T, M) -> (D, M)
    return dx, dw, dout_flat.sum(axis=0)


def word_embedding_forward(x: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Look up word vectors: out[n, t] = W[x[n, t]].

    x: (N, T) integer word ids in [0, V); W: (V, D) word vectors. Returns out: (N, T, D).
    """
    return W[x], (x, W.shape)


def word_embedding_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """dW[v] = sum of dout[n, t] over the positions where x[n, t] == v.

    dout: (N, T, D) upstream gradient. Returns dW: (V, D). Vectorised: the positions are
    sorted by word id and each word's rows summed with one `np.add.reduceat` (no `np.add.at`).
    """
    x, (V, D) = cache
    ids = x.reshape(-1)  # (N*T,)
    rows = dout.reshape(-1, D)  # (N*T, D)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    words, starts = np.unique(sorted_ids, return_index=True)
    dW = np.zeros((V, D), dtype=dout.dtype)
    if words.size:
        dW[words] = np.add.reduceat(rows[order], starts, axis=0)
    return dW


def temporal_softmax_loss(
    x: np.ndarray, y: np.ndarray, mask: np.ndarray, verbose: bool = False
) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy summed over the unmasked steps and divided by N.

    loss = -1/N * sum_{n,t} mask[n, t] * log softmax(x[n, t])[y[n, t]]
    x: (N, T, V) scores; y: (N, T) targets in [0, V); mask: (N, T) bool, which steps count.
    Returns the loss and dx: (N, T, V). `verbose` is the course's flag and does nothing.
    """
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)  # (N*T, V): one row per time step
    y_flat = y.reshape(N * T)  # (N*T,)
    mask_flat = mask.reshape(N * T).astype(x.dtype)  # (N*T,), 1.0 where the step counts
    rows = np.arange(N * T)
    probs = x_flat - x_flat.max(axis=1, keepdims=True)  # (N*T, V), shifted scores
    target_scores = probs[rows, y_flat]
    np.exp(probs, out=probs)
    totals = probs.sum(axis=1)
    loss = -np.sum(mask_flat * (target_scores - np.log(totals))) / N
    probs *= (mask_flat / (totals * N))[:, None]  # masked softmax / N
    probs[rows, y_flat] -= mask_flat / N
    return float(loss), probs.reshape(N, T, V)  # dx: (N*T, V) -> (N, T, V)
