"""Length-normalised beam search for the numpy CaptioningRNN.

Hypotheses are ranked by their mean log-probability per generated word (`<END>` included),
so short captions do not win just by being short. A finished hypothesis stays in the beam,
extended by `<NULL>` at no cost. With beam_size 1 every candidate has the same length, so the
ranking is the argmax of the next word's probability: exactly greedy decoding.
"""

from __future__ import annotations

import numpy as np


def _log_softmax(scores: np.ndarray) -> np.ndarray:
    """scores (M, V) -> log-probabilities (M, V), float64."""
    shifted = scores.astype(np.float64) - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def beam_search(
    model, features: np.ndarray, beam_size: int = 3, max_length: int = 30
) -> np.ndarray:
    """Caption each image with its best of `beam_size` hypotheses.

    model: a CaptioningRNN (uses `initial_state`, `step`, `_start`, `_end`, `_null`).
    features: (N, D). Returns captions: (N, max_length) int, `<NULL>`-padded after `<END>`.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")
    N, B = features.shape[0], beam_size
    h, c = model.initial_state(np.repeat(features, B, axis=0))  # (N*B, H)
    words = np.full(N * B, model._start, dtype=np.int64)
    tokens = np.full((N, B, max_length), model._null, dtype=np.int64)
    scores = np.full((N, B), -np.inf)
    scores[:, 0] = 0.0  # one live hypothesis at the start, not B copies of it
    lengths = np.zeros((N, B))
    finished = np.zeros((N, B), dtype=bool)
    rows = np.arange(N)[:, None]
    for t in range(max_length):
        step_scores, h, c = model.step(words, h, c)
        logp = _log_softmax(step_scores).reshape(N, B, -1)  # (N, B, V)
        V = logp.shape[2]
        candidates = scores[:, :, None] + logp
        candidates[finished] = -np.inf
        candidates[finished, model._null] = scores[finished]
        candidate_lengths = lengths + ~finished  # (N, B)
        ranked = (candidates / np.maximum(candidate_lengths, 1)[:, :, None]).reshape(N, B * V)
        best = np.argsort(-ranked, axis=1, kind="stable")[:, :B]  # (N, B)
        beams, words_nb = best // V, best % V
        scores = candidates.reshape(N, B * V)[rows, best]
        lengths = candidate_lengths[rows, beams]
        finished = finished[rows, beams] | (words_nb == model._end)
        tokens = tokens[rows, beams]
        tokens[:, :, t] = words_nb
        flat = (rows * B + beams).reshape(-1)  # which (image, beam) each new beam came from
        h, c, words = h[flat], c[flat], words_nb.reshape(-1)
        if finished.all():
            break
    final = np.where(np.isfinite(scores), scores / np.maximum(lengths, 1), -np.inf)
    return tokens[np.arange(N), final.argmax(axis=1)]
