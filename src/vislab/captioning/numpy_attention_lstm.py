"""AttentionCaptioningLSTM: a numpy captioner that looks at the grid cells while it speaks.

features: (N, L, D) one vector per grid cell (L = 9 for the scenes, 49 for photos)
cells = [features, position code of the cell]                 (N, L, D + 4)
h0 = mean_l(features) W_proj + b_proj                         (N, H)
x = W_embed[captions_in]                                      (N, T, W)
h, alphas = attention_lstm(x, cells, h0)                      (N, T, H), (N, T, L)
scores = h W_vocab + b_vocab; loss as in `CaptioningRNN`      (N, T, V)

The attention weights alphas[n, t] say where the model looked before emitting word t: the
grounding drawn on the images. The language-model parts (embedding, projection, LSTM weights
Wx, Wh, b, vocabulary layer, the masked loss) are `CaptioningRNN`'s; the attention adds Wz,
W_a, b_a, W_ha, w_att (see `vislab.numpy_nn.attention_lstm_layers`).
"""

from __future__ import annotations

import numpy as np

from vislab.captioning.numpy_rnn import CaptioningRNN
from vislab.numpy_nn import (
    affine_backward,
    affine_forward,
    attention_lstm_backward,
    attention_lstm_forward,
    attention_lstm_step_forward,
    word_embedding_backward,
    word_embedding_forward,
)

ATTENTION_LSTM = "attention-lstm"
POSITION_DIM = 4


def cell_positions(num_cells: int, dtype=np.float32) -> np.ndarray:
    """(L, 4) code of the cells of a square grid in reading order: r, c, r^2, c^2 in [-1, 1]."""
    side = round(num_cells**0.5)
    if side * side != num_cells:
        raise ValueError(f"the attention LSTM needs a square grid of cells, got {num_cells}")
    coordinates = np.linspace(-1, 1, side) if side > 1 else np.zeros(1)
    rows, columns = np.meshgrid(coordinates, coordinates, indexing="ij")
    r, c = rows.reshape(-1), columns.reshape(-1)  # (side, side) -> (L,) each, reading order
    return np.stack([r, c, r * r, c * c], axis=1).astype(dtype)


class AttentionCaptioningLSTM(CaptioningRNN):
    """The soft-attention LSTM captioner; `params` maps names to numpy arrays.

    Same arguments as `CaptioningRNN` (input_dim D is the per-cell feature dim), cell_type
    must be "attention-lstm"; attention_dim A defaults to hidden_dim.
    """

    feature_layout = "grid"

    def __init__(
        self,
        word_to_idx: dict[str, int],
        input_dim: int = 512,
        wordvec_dim: int = 128,
        hidden_dim: int = 128,
        cell_type: str = ATTENTION_LSTM,
        dtype=np.float32,
        rng: np.random.Generator | None = None,
        attention_dim: int | None = None,
    ):
        if cell_type != ATTENTION_LSTM:
            raise ValueError(f"Invalid cell_type {cell_type!r}; expected {ATTENTION_LSTM!r}")
        super().__init__(word_to_idx, input_dim, wordvec_dim, hidden_dim, "lstm", dtype, rng)
        self.cell_type = ATTENTION_LSTM
        randn = rng.standard_normal if rng is not None else np.random.standard_normal
        D, H = input_dim + POSITION_DIM, hidden_dim  # the attention sees cells with positions
        A = hidden_dim if attention_dim is None else attention_dim
        extra = {
            "Wz": randn((D, 4 * H)) / np.sqrt(D),
            "W_a": randn((D, A)) / np.sqrt(D),
            "b_a": np.zeros(A),
            "W_ha": randn((H, A)) / np.sqrt(H),
            "w_att": randn(A) / np.sqrt(A),
        }
        self.params.update({name: value.astype(dtype) for name, value in extra.items()})

    @property
    def config(self) -> dict:
        return {**super().config, "attention_dim": int(self.params["w_att"].shape[0])}

    def _cells(self, features: np.ndarray) -> np.ndarray:
        """features (N, L, D) -> (N, L, D + 4): each cell with its position code appended."""
        N, L, _ = features.shape
        # A cell's features say what is there, not where (every window goes through the same
        # CNN); with its place appended, the context vector says where the model looked, so
        # place words ("left", "top") can be read from it.
        code = np.broadcast_to(cell_positions(L, self.dtype), (N, L, POSITION_DIM))
        return np.concatenate([features, code], axis=2)

    def _weights(self) -> list[np.ndarray]:
        p = self.params
        return [p[name] for name in ("Wx", "Wz", "Wh", "b", "W_a", "b_a", "W_ha", "w_att")]

    def loss(
        self, features: np.ndarray, captions: np.ndarray, compute_grads: bool = True
    ) -> tuple[float, dict]:
        """Training loss and gradients, as `CaptioningRNN.loss` with features (N, L, D)."""
        p = self.params
        features = features.astype(self.dtype, copy=False)
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        h0, cache_proj = affine_forward(features.mean(axis=1), p["W_proj"], p["b_proj"])
        x, cache_embed = word_embedding_forward(captions_in, p["W_embed"])
        h, _, cache_cell = attention_lstm_forward(x, self._cells(features), h0, *self._weights())
        loss, vocab_backward = self._vocab_loss(h, captions_out)
        if not compute_grads:
            return loss, {}
        grads = {}
        dh, grads["W_vocab"], grads["b_vocab"] = vocab_backward()
        dx, _, dh0, *dweights = attention_lstm_backward(dh, cache_cell)
        names = ("Wx", "Wz", "Wh", "b", "W_a", "b_a", "W_ha", "w_att")
        grads.update(zip(names, dweights, strict=True))
        grads["W_embed"] = word_embedding_backward(dx, cache_embed)
        _, grads["W_proj"], grads["b_proj"] = affine_backward(dh0, cache_proj)
        return loss, grads

    def initial_state(self, features: np.ndarray) -> tuple[np.ndarray, ...]:
        """features (N, L, D) -> the decoding state (h0, c0, cells (N, L, D + 4), projected
        cells (N, L, A))."""
        features = features.astype(self.dtype, copy=False)
        h0, c0 = super().initial_state(features.mean(axis=1))
        cells = self._cells(features)
        projected = cells @ self.params["W_a"] + self.params["b_a"]  # (N, L, A)
        return h0, c0, cells, projected

    def step_with_attention(self, words, h, c, cells, projected):
        """One decoding step: words (N,) -> scores (N, V), next h, c (N, H), alpha (N, L)."""
        p = self.params
        h, c, alpha, _ = attention_lstm_step_forward(
            p["W_embed"][words], h, c, cells, projected,
            p["Wx"], p["Wz"], p["Wh"], p["b"], p["W_ha"], p["w_att"],
        )  # fmt: skip
        return h @ p["W_vocab"] + p["b_vocab"], h, c, alpha

    def step(self, words, h, c, cells, projected):
        """The beam search's step: state (h, c, cells, projected) in and out."""
        scores, h, c, _ = self.step_with_attention(words, h, c, cells, projected)
        return scores, h, c, cells, projected

    def sample_with_attention(
        self, features: np.ndarray, max_length: int = 30
    ) -> tuple[np.ndarray, np.ndarray]:
        """Greedy captions (N, max_length), `<NULL>` after `<END>`, and the attention over the
        cells before each generated word: (N, max_length, L), zero after `<END>`."""
        N, L = features.shape[:2]
        captions = np.full((N, max_length), self._null, dtype=np.int64)
        alphas = np.zeros((N, max_length, L), dtype=self.dtype)
        h, c, cells, projected = self.initial_state(features)
        words = np.full(N, self._start, dtype=np.int64)
        done = np.zeros(N, dtype=bool)
        for t in range(max_length):
            scores, h, c, alpha = self.step_with_attention(words, h, c, cells, projected)
            words = scores.argmax(axis=1)
            captions[:, t] = np.where(done, self._null, words)
            alphas[~done, t] = alpha[~done]
            done |= words == self._end
            if done.all():
                break
        return captions, alphas

    def sample(
        self,
        features: np.ndarray,
        max_length: int = 30,
        beam_size: int = 1,
        length_penalty: float = 1.0,
        block_trigrams: bool = False,
    ) -> np.ndarray:
        """Greedy or beam-search captions of features (N, L, D) -> (N, max_length) int."""
        if beam_size > 1 or block_trigrams:
            from vislab.captioning.numpy_beam_search import beam_search

            return beam_search(
                self, features, beam_size, max_length, length_penalty, block_trigrams
            )
        return self.sample_with_attention(features, max_length)[0]
