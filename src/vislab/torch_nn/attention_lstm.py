"""The soft-attention LSTM of `vislab.numpy_nn.attention_lstm_layers`, from torch built-ins.

The oracle for the numpy layers' tests and the speed baseline of benchmarks: `nn.LSTMCell`
on [x_t, z_t], additive attention from `nn.Linear`, `tanh` and `softmax`. Letters: L regions,
A attention dim. Weights load from the numpy parameter layout with `load_numpy_weights`
(numpy gate blocks i, f, o, g; torch's are i, f, g, o).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class SoftAttentionLSTM(nn.Module):
    """x: (N, T, W) words, features: (N, L, D), h0: (N, H) -> h (N, T, H), alphas (N, T, L)."""

    def __init__(self, wordvec_dim: int, feature_dim: int, hidden_dim: int, attention_dim: int):
        super().__init__()
        self.cell = nn.LSTMCell(wordvec_dim + feature_dim, hidden_dim)
        self.project_features = nn.Linear(feature_dim, attention_dim)  # W_a, b_a
        self.project_hidden = nn.Linear(hidden_dim, attention_dim, bias=False)  # W_ha
        self.score = nn.Linear(attention_dim, 1, bias=False)  # w_att

    def forward(
        self, x: torch.Tensor, features: torch.Tensor, h0: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        projected = self.project_features(features)  # (N, L, A)
        h, c = h0, torch.zeros_like(h0)
        hs, alphas = [], []
        for t in range(x.shape[1]):
            u = torch.tanh(projected + self.project_hidden(h).unsqueeze(1))  # (N, L, A)
            alpha = torch.softmax(self.score(u).squeeze(2), dim=1)  # (N, L)
            z = torch.bmm(alpha.unsqueeze(1), features).squeeze(1)  # (N, D)
            h, c = self.cell(torch.cat([x[:, t], z], dim=1), (h, c))
            hs.append(h)
            alphas.append(alpha)
        return torch.stack(hs, dim=1), torch.stack(alphas, dim=1)


def _ifgo(W: np.ndarray) -> np.ndarray:
    """Gate blocks along the last axis: numpy's i, f, o, g -> torch's i, f, g, o."""
    i, f, o, g = np.split(W, 4, axis=-1)
    return np.concatenate([i, f, g, o], axis=-1)


@torch.no_grad()
def load_numpy_weights(module: SoftAttentionLSTM, params: dict[str, np.ndarray]) -> None:
    """Copy numpy weights Wx (W, 4H), Wz (D, 4H), Wh (H, 4H), b (4H,), W_a (D, A), b_a (A,),
    W_ha (H, A), w_att (A,) into the module (same dtype as the module)."""

    def put(target: torch.Tensor, value: np.ndarray) -> None:
        target.copy_(torch.from_numpy(np.ascontiguousarray(value)))

    # torch keeps weights as (out, in), numpy as (in, out): hence the transposes.
    # weight_ih: [Wx; Wz] (W + D, 4H) -> (4H, W + D), as LSTMCell reads [x_t, z_t]
    put(module.cell.weight_ih, _ifgo(np.concatenate([params["Wx"], params["Wz"]])).T)
    put(module.cell.weight_hh, _ifgo(params["Wh"]).T)
    put(module.cell.bias_ih, _ifgo(params["b"]))
    module.cell.bias_hh.zero_()
    put(module.project_features.weight, params["W_a"].T)
    put(module.project_features.bias, params["b_a"])
    put(module.project_hidden.weight, params["W_ha"].T)
    put(module.score.weight, params["w_att"][None])  # (A,) -> (1, A)


def numpy_gradients(module: SoftAttentionLSTM, wordvec_dim: int) -> dict[str, np.ndarray]:
    """The module's .grad in the numpy parameter layout (names as in `load_numpy_weights`)."""

    def ifgo_back(W: np.ndarray) -> np.ndarray:
        i, f, g, o = np.split(W, 4, axis=-1)
        return np.concatenate([i, f, o, g], axis=-1)

    weight_ih = ifgo_back(module.cell.weight_ih.grad.numpy().T)  # (W + D, 4H): [dWx; dWz]
    return {
        "Wx": weight_ih[:wordvec_dim],
        "Wz": weight_ih[wordvec_dim:],
        "Wh": ifgo_back(module.cell.weight_hh.grad.numpy().T),
        "b": ifgo_back(module.cell.bias_ih.grad.numpy()),
        "W_a": module.project_features.weight.grad.numpy().T,
        "b_a": module.project_features.bias.grad.numpy(),
        "W_ha": module.project_hidden.weight.grad.numpy().T,
        "w_att": module.score.weight.grad.numpy()[0],
    }
