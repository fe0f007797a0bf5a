"""CaptioningRNN: image features -> initial hidden state -> RNN or LSTM language model -> words.

h0 = features W_proj + b_proj                      (N, H)
x = W_embed[captions_in]                           (N, T, W)
h = rnn(x, h0) or lstm(x, h0)                      (N, T, H)
scores = h W_vocab + b_vocab                       (N, T, V)
loss = temporal softmax loss against captions_out, `<NULL>` positions masked
"""

from __future__ import annotations

import numpy as np

from vislab.numpy_nn import (
    affine_backward,
    affine_forward,
    lstm_backward,
    lstm_forward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

CELL_TYPES = {"rnn": 1, "lstm": 4}  # cell type -> gate blocks in Wx, Wh, b


class CaptioningRNN:
    """The course's captioning model; `params` maps names to numpy arrays.

    word_to_idx: vocabulary (must hold `<NULL>`; sampling needs `<START>` and `<END>`).
    input_dim D, wordvec_dim W, hidden_dim H; cell_type "rnn" or "lstm".
    Initial weights come from `rng`, or numpy's global generator when None (as in the course).
    """

    def __init__(
        self,
        word_to_idx: dict[str, int],
        input_dim: int = 512,
        wordvec_dim: int = 128,
        hidden_dim: int = 128,
        cell_type: str = "rnn",
        dtype=np.float32,
        rng: np.random.Generator | None = None,
    ):
        if cell_type not in CELL_TYPES:
            raise ValueError(f"Invalid cell_type {cell_type!r}; expected one of {list(CELL_TYPES)}")
        self.cell_type = cell_type
        self.dtype = dtype
        self.word_to_idx = dict(word_to_idx)
        self.idx_to_word = {index: word for word, index in word_to_idx.items()}
        self._null = word_to_idx["<NULL>"]
        self._start = word_to_idx.get("<START>")
        self._end = word_to_idx.get("<END>")
        # The course draws from numpy's global generator; np.random.seed(231) reproduces it.
        randn = rng.standard_normal if rng is not None else np.random.standard_normal
        V, D, W, H = len(word_to_idx), input_dim, wordvec_dim, hidden_dim
        gates = CELL_TYPES[cell_type] * H
        params = {
            "W_embed": randn((V, W)) / 100,
            "W_proj": randn((D, H)) / np.sqrt(D),
            "b_proj": np.zeros(H),
            "Wx": randn((W, gates)) / np.sqrt(W),
            "Wh": randn((H, gates)) / np.sqrt(H),
            "b": np.zeros(gates),
            "W_vocab": randn((H, V)) / np.sqrt(H),
            "b_vocab": np.zeros(V),
        }
        self.params = {name: value.astype(dtype) for name, value in params.items()}

    @property
    def config(self) -> dict:
        """The constructor's arguments as plain values (for checkpoints)."""
        input_dim, hidden_dim = self.params["W_proj"].shape
        return {
            "input_dim": int(input_dim),
            "wordvec_dim": int(self.params["W_embed"].shape[1]),
            "hidden_dim": int(hidden_dim),
            "cell_type": self.cell_type,
            "dtype": np.dtype(self.dtype).name,
        }

    def loss(
        self, features: np.ndarray, captions: np.ndarray, compute_grads: bool = True
    ) -> tuple[float, dict]:
        """Training loss and gradients (an empty dict when `compute_grads` is False).

        features: (N, D) image features; captions: (N, T+1) word ids, `<START>` first.
        Inputs are captions[:, :-1], targets captions[:, 1:]; `<NULL>` targets are masked.
        Returns the loss and a dict of gradients with the keys of `params`.
        """
        p = self.params
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        h0, cache_proj = affine_forward(
            features.astype(self.dtype, copy=False), p["W_proj"], p["b_proj"]
        )
        x, cache_embed = word_embedding_forward(captions_in, p["W_embed"])
        if self.cell_type == "rnn":
            forward, backward = rnn_forward, rnn_backward
        else:
            forward, backward = lstm_forward, lstm_backward
        h, cache_cell = forward(x, h0, p["Wx"], p["Wh"], p["b"])
        loss, vocab_backward = self._vocab_loss(h, captions_out)
        if not compute_grads:
            return loss, {}

        grads = {}
        dh, grads["W_vocab"], grads["b_vocab"] = vocab_backward()
        dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = backward(dh, cache_cell)
        grads["W_embed"] = word_embedding_backward(dx, cache_embed)
        _, grads["W_proj"], grads["b_proj"] = affine_backward(dh0, cache_proj)
        return loss, grads

    def _vocab_loss(self, h: np.ndarray, captions_out: np.ndarray):
        """Temporal affine to V + temporal softmax loss, computed only where the target is
        not `<NULL>` (masked steps add nothing to the loss or the gradients).

        h: (N, T, H) hidden states; captions_out: (N, T) targets. Returns the loss and a
        function giving dh (N, T, H), dW_vocab, db_vocab.
        """
        N, T, H = h.shape
        h_time = h.transpose(1, 0, 2)  # (T, N, H); contiguous when h came from rnn/lstm_forward
        keep = (captions_out != self._null).T  # (T, N)
        h_kept = h_time[keep]  # (M, H), M unmasked steps
        scores, cache = affine_forward(h_kept, self.params["W_vocab"], self.params["b_vocab"])
        targets = captions_out.T[keep]  # (M,)
        # the kept steps as a batch of one sequence: scores (1, M, V), targets (1, M)
        loss, dscores = temporal_softmax_loss(
            scores[None], targets[None], np.ones((1, len(targets)), bool)
        )
        loss /= N  # temporal_softmax_loss divided by its batch of 1; the course divides by N

        def backward():
            dscores_kept = dscores[0]
            dscores_kept *= 1 / N
            dh_kept, dW, db = affine_backward(dscores_kept, cache)
            dh_time = np.zeros((T, N, H), dtype=dh_kept.dtype)
            dh_time[keep] = dh_kept
            return dh_time.transpose(1, 0, 2), dW, db  # dh: (T, N, H) -> (N, T, H)

        return loss, backward

    def initial_state(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """features (N, D) -> hidden state h0 (N, H) and cell state c0 = 0 (N, H)."""
        h0 = features.astype(self.dtype, copy=False) @ self.params["W_proj"] + self.params["b_proj"]
        return h0, np.zeros_like(h0)

    def step(
        self, words: np.ndarray, h: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One decoding step: words (N,) ids, h, c (N, H) -> scores (N, V), next h, next c."""
        p = self.params
        x = p["W_embed"][words]  # (N, W)
        if self.cell_type == "rnn":
            h, _ = rnn_step_forward(x, h, p["Wx"], p["Wh"], p["b"])
        else:
            h, c, _ = lstm_step_forward(x, h, c, p["Wx"], p["Wh"], p["b"])
        return h @ p["W_vocab"] + p["b_vocab"], h, c

    def sample(
        self,
        features: np.ndarray,
        max_length: int = 30,
        beam_size: int = 1,
        length_penalty: float = 1.0,
        block_trigrams: bool = False,
    ) -> np.ndarray:
        """Caption images: greedy (the course's `sample`) or, with beam_size > 1 or
        block_trigrams, beam search (see `numpy_beam_search` for the two decoding options).

        features: (N, D). Returns captions: (N, max_length) int, the first generated word
        first, `<NULL>` after `<END>`.
        """
        if self._start is None or self._end is None:
            raise ValueError("sampling needs <START> and <END> in word_to_idx")
        if beam_size > 1 or block_trigrams:
            from vislab.captioning.numpy_beam_search import beam_search

            return beam_search(
                self, features, beam_size, max_length, length_penalty, block_trigrams
            )
        N = features.shape[0]
        captions = np.full((N, max_length), self._null, dtype=np.int64)
        h, c = self.initial_state(features)
        words = np.full(N, self._start, dtype=np.int64)
        done = np.zeros(N, dtype=bool)
        for t in range(max_length):
            scores, h, c = self.step(words, h, c)
            words = scores.argmax(axis=1)
            captions[:, t] = np.where(done, self._null, words)
            done |= words == self._end
            if done.all():
                break
        return captions
