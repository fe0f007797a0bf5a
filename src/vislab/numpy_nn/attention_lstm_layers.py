"""An LSTM with soft attention over image regions (Show, Attend and Tell; Xu et al., 2015).

The image is L feature vectors a_l (D,), one per region (a grid cell). Before each step the
previous hidden state scores every region (additive attention, Bahdanau et al., 2015):

    e_l = w_att . tanh(a_l W_a + b_a + h_{t-1} W_ha)        (N, L)
    alpha = softmax_l(e);  z_t = sum_l alpha_l a_l            (N, L), (N, D) the context
    gates = x_t Wx + z_t Wz + h_{t-1} Wh + b                  (N, 4H), blocks i, f, o, g

and the LSTM step follows as in `lstm_layers`. Letters beyond the shape alphabet: L regions,
A attention dim. a W_a + b_a does not depend on t, so it is computed once per sequence.
The attention weights are returned for inspection only (no gradient flows into them).
"""

from __future__ import annotations

import numpy as np

from vislab.numpy_nn.lstm_layers import _gates, _step_gate_grads


def soft_attention_forward(
    features: np.ndarray,
    projected: np.ndarray,
    prev_h: np.ndarray,
    W_ha: np.ndarray,
    w_att: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Attention weights over the regions and the context vector they give.

    features: (N, L, D) region features a; projected: (N, L, A) a W_a + b_a;
    prev_h: (N, H); W_ha: (H, A); w_att: (A,).
    Returns z: (N, D) context, alpha: (N, L) weights (rows sum to 1), and the cache.
    """
    u = np.tanh(projected + (prev_h @ W_ha)[:, None, :])  # (N, L, A)
    e = u @ w_att  # (N, L)
    e -= e.max(axis=1, keepdims=True)
    alpha = np.exp(e)
    alpha /= alpha.sum(axis=1, keepdims=True)
    z = (alpha[:, None, :] @ features)[:, 0]  # (N, D), a batched matmul
    return z, alpha, (features, prev_h, W_ha, w_att, u, alpha)


def soft_attention_backward(dz: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Gradients of `soft_attention_forward`: dz (N, D) ->
    dfeatures (N, L, D) (through z only), dprojected (N, L, A), dprev_h (N, H),
    dW_ha (H, A), dw_att (A,)."""
    features, prev_h, W_ha, w_att, u, alpha = cache
    dfeatures = alpha[:, :, None] * dz[:, None, :]  # (N, L, 1) * (N, 1, D) -> (N, L, D)
    dprojected, dhp, dw_att = _scores_backward(dz, cache)
    # dfeatures (N, L, D), dprojected (N, L, A), dprev_h (N, H), dW_ha (H, A), dw_att (A,)
    return dfeatures, dprojected, dhp @ W_ha.T, prev_h.T @ dhp, dw_att


def _scores_backward(dz: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """dz (N, D) -> dprojected (N, L, A), d(h W_ha) (N, A), dw_att (A,): the gradient through
    the attention weights (the direct path z <- features is left to the caller)."""
    features, _, _, w_att, u, alpha = cache
    dalpha = (features @ dz[:, :, None])[:, :, 0]  # (N, L)
    de = alpha * (dalpha - (alpha * dalpha).sum(axis=1, keepdims=True))  # through softmax
    A = u.shape[2]
    dw_att = de.reshape(-1) @ u.reshape(-1, A)  # (N*L,) @ (N*L, A) -> (A,)
    dprojected = u * u
    np.subtract(1, dprojected, out=dprojected)
    dprojected *= de[:, :, None] * w_att  # (N, L, A) through tanh
    return dprojected, dprojected.sum(axis=1), dw_att


def attention_lstm_step_forward(
    x: np.ndarray,
    prev_h: np.ndarray,
    prev_c: np.ndarray,
    features: np.ndarray,
    projected: np.ndarray,
    Wx: np.ndarray,
    Wz: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    W_ha: np.ndarray,
    w_att: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """One step: attend with prev_h, then an LSTM step on [x, z].

    x: (N, W) word vector; prev_h, prev_c: (N, H); features: (N, L, D); projected: (N, L, A);
    Wx: (W, 4H); Wz: (D, 4H); Wh: (H, 4H); b: (4H,); W_ha: (H, A); w_att: (A,).
    Returns next_h, next_c: (N, H), alpha: (N, L) and the cache.
    """
    H = prev_h.shape[1]
    z, alpha, attention_cache = soft_attention_forward(features, projected, prev_h, W_ha, w_att)
    gates = _gates(x @ Wx + z @ Wz + prev_h @ Wh + b)  # (N, 4H): i, f, o, g
    i, f, o, g = (gates[:, k * H : (k + 1) * H] for k in range(4))
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    cache = (x, z, prev_h, prev_c, Wx, Wz, Wh, gates, tanh_c, attention_cache)
    return next_h, next_c, alpha, cache


def attention_lstm_step_backward(
    dnext_h: np.ndarray, dnext_c: np.ndarray, cache: tuple
) -> tuple[np.ndarray, ...]:
    """Gradients of one step: dnext_h, dnext_c (N, H) -> dx (N, W), dprev_h (N, H),
    dprev_c (N, H), dfeatures (N, L, D), dprojected (N, L, A), dWx, dWz, dWh, db, dW_ha, dw_att."""
    x, z, prev_h, prev_c, Wx, Wz, Wh, gates, tanh_c, attention_cache = cache
    da = np.empty_like(gates)
    dprev_c = _step_gate_grads(dnext_h, dnext_c, prev_c, gates, tanh_c, da)
    # da (N, 4H) @ W.T (4H, in) -> (N, in) for each input; x.T (in, N) @ da -> (in, 4H).
    dfeatures, dprojected, dh_att, dW_ha, dw_att = soft_attention_backward(
        da @ Wz.T, attention_cache
    )
    dprev_h = da @ Wh.T + dh_att
    return (
        da @ Wx.T,
        dprev_h,
        dprev_c,
        dfeatures,
        dprojected,
        x.T @ da,
        z.T @ da,
        prev_h.T @ da,
        da.sum(axis=0),
        dW_ha,
        dw_att,
    )


def attention_lstm_forward(
    x: np.ndarray,
    features: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wz: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    W_a: np.ndarray,
    b_a: np.ndarray,
    W_ha: np.ndarray,
    w_att: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Run the attention LSTM over a sequence; the cell state starts at zero.

    x: (N, T, W) word vectors; features: (N, L, D) regions; h0: (N, H); W_a: (D, A); b_a: (A,);
    the other weights as in `attention_lstm_step_forward`.
    Returns h: (N, T, H), alphas: (N, T, L) attention weights, and the cache.
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    projected = features @ W_a + b_a  # (N, L, A), once for all steps
    x_time = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, N, W)
    # (T*N, W) @ (W, 4H) -> (T, N, 4H): x Wx for all steps in one matmul, outside the loop
    gates = (x_time.reshape(T * N, -1) @ Wx).reshape(T, N, 4 * H)
    gates += b
    cs = np.empty((T, N, H), dtype=gates.dtype)
    tanh_cs, hs = np.empty_like(cs), np.empty_like(cs)
    contexts = np.empty((T, N, features.shape[2]), dtype=gates.dtype)
    alphas = np.empty((T, N, features.shape[1]), dtype=gates.dtype)
    attention_caches = []
    prev_h, prev_c = h0, np.zeros_like(h0)
    for t in range(T):
        contexts[t], alphas[t], attention_cache = soft_attention_forward(
            features, projected, prev_h, W_ha, w_att
        )
        attention_caches.append(attention_cache)
        step = gates[t]
        step += prev_h @ Wh
        step += contexts[t] @ Wz
        _gates(step)
        np.multiply(step[:, H : 2 * H], prev_c, out=cs[t])
        cs[t] += step[:, :H] * step[:, 3 * H :]
        np.tanh(cs[t], out=tanh_cs[t])
        np.multiply(step[:, 2 * H : 3 * H], tanh_cs[t], out=hs[t])
        prev_h, prev_c = hs[t], cs[t]
    cache = (x_time, features, h0, Wx, Wz, Wh, W_a, gates, cs, tanh_cs, hs, contexts)
    # h: (T, N, H) -> (N, T, H); alphas: (T, N, L) -> (N, T, L)
    return hs.transpose(1, 0, 2), alphas.transpose(1, 0, 2), (cache, attention_caches)


def attention_lstm_backward(dh: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backpropagation through time.

    dh: (N, T, H) upstream gradients of every hidden state. Returns dx (N, T, W),
    dfeatures (N, L, D), dh0 (N, H), dWx, dWz, dWh, db, dW_a, db_a, dW_ha, dw_att.
    """
    (x_time, features, h0, Wx, Wz, Wh, W_a, gates, cs, tanh_cs, hs, contexts), attention = cache
    T, N, H = hs.shape
    dh_time = dh.transpose(1, 0, 2)  # (T, N, H)
    da = np.empty_like(gates)  # (T, N, 4H) d(pre-activations)
    dprojected = np.zeros(attention[0][4].shape, dtype=gates.dtype)  # (N, L, A)
    dhp = np.empty((T, N, dprojected.shape[2]), dtype=gates.dtype)  # d(h_{t-1} W_ha)
    dcontexts = np.empty_like(contexts)  # (T, N, D)
    dw_att = np.zeros_like(attention[0][3])
    W_ha = attention[0][2]
    dprev_h, dprev_c = np.zeros_like(h0), np.zeros_like(h0)
    zeros = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        prev_c = cs[t - 1] if t > 0 else zeros
        dprev_c = _step_gate_grads(
            dh_time[t] + dprev_h, dprev_c, prev_c, gates[t], tanh_cs[t], da[t]
        )
        np.matmul(da[t], Wz.T, out=dcontexts[t])  # (N, 4H) @ (4H, D) -> (N, D)
        dprojected_t, dhp[t], dw_att_t = _scores_backward(dcontexts[t], attention[t])
        dprojected += dprojected_t
        dw_att += dw_att_t
        dprev_h = da[t] @ Wh.T + dhp[t] @ W_ha.T  # (N, 4H) @ (4H, H) + (N, A) @ (A, H)
    da_flat = da.reshape(T * N, 4 * H)  # (T*N, 4H): the weight gradients in one matmul each
    dx = (da_flat @ Wx.T).reshape(T, N, -1).transpose(1, 0, 2)  # (T*N, W) -> (N, T, W)
    dWx = x_time.reshape(T * N, -1).T @ da_flat  # (W, T*N) @ (T*N, 4H) -> (W, 4H)
    dWz = contexts.reshape(T * N, -1).T @ da_flat  # (D, T*N) @ (T*N, 4H) -> (D, 4H)
    # h_{t-1}^T da_t summed over t: h0 for t = 0, then (H, (T-1)*N) @ ((T-1)*N, 4H)
    dWh = h0.T @ da[0] + hs[:-1].reshape((T - 1) * N, H).T @ da[1:].reshape((T - 1) * N, 4 * H)
    L, D = features.shape[1:]
    alphas = np.stack([cache[5] for cache in attention], axis=1)  # (N, T, L)
    # sum_t alpha_t dz_t^T per image, the direct path z <- features, as one batched matmul.
    dfeatures = alphas.transpose(0, 2, 1) @ dcontexts.transpose(1, 0, 2)  # (N, L, D)
    previous_h = np.concatenate([h0[None], hs[:-1]])  # (T, N, H): h_{t-1} of every step
    A = dhp.shape[2]
    dW_ha = previous_h.reshape(T * N, H).T @ dhp.reshape(T * N, A)  # (H, T*N) @ (T*N, A)
    dprojected_flat = dprojected.reshape(N * L, -1)  # (N*L, A)
    dfeatures += (dprojected_flat @ W_a.T).reshape(N, L, D)  # (N*L, D) -> (N, L, D)
    dW_a = features.reshape(N * L, D).T @ dprojected_flat  # (D, N*L) @ (N*L, A) -> (D, A)
    db_a = dprojected_flat.sum(axis=0)
    return dx, dfeatures, dprev_h, dWx, dWz, dWh, da_flat.sum(axis=0), dW_a, db_a, dW_ha, dw_att
