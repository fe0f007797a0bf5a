"""Beam search for the numpy captioners, with a length penalty and trigram blocking.

Hypotheses are ranked by total log-probability / length ** length_penalty, the length
counting the generated words with `<END>`: 1 (the default) ranks by mean log-probability per
word, so short captions do not win just by being short; 0 ranks by the plain total. A
finished hypothesis stays in the beam, extended by `<NULL>` at no cost. With
`block_trigrams`, a word that would repeat a trigram already in its hypothesis is never
chosen (Paulus et al., 2018). With beam_size 1 and no blocking every candidate has the same
length, so the ranking is the argmax of the next word's probability: exactly greedy decoding.
"""

from __future__ import annotations

import numpy as np


def _log_softmax(scores: np.ndarray) -> np.ndarray:
    """scores (M, V) -> log-probabilities (M, V), float64."""
    shifted = scores.astype(np.float64) - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def repeated_trigram_words(tokens: np.ndarray, t: int) -> tuple[np.ndarray, ...]:
    """Which next words would repeat a trigram: tokens (M, >= t) hold t words so far.

    Returns (rows, words) index arrays: word tokens[m, k + 2] is banned for row m wherever
    (tokens[m, k], tokens[m, k + 1]) equals the row's last two words, k + 2 < t.
    """
    if t < 3:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    last = tokens[:, t - 2 : t]  # (M, 2)
    match = (tokens[:, : t - 2] == last[:, :1]) & (tokens[:, 1 : t - 1] == last[:, 1:])
    rows, starts = np.nonzero(match)  # (M, t - 2) pairs that equal the last two words
    return rows, tokens[rows, starts + 2]


def beam_search(
    model,
    features: np.ndarray,
    beam_size: int = 3,
    max_length: int = 30,
    length_penalty: float = 1.0,
    block_trigrams: bool = False,
) -> np.ndarray:
    """Caption each image with its best of `beam_size` hypotheses.

    model: a CaptioningRNN (or anything with `initial_state(features) -> state tuple`,
    `step(words, *state) -> (scores (M, V), *state)`, `_start`, `_end`, `_null`).
    features: (N, ...) one row per image. Returns captions: (N, max_length) int,
    `<NULL>`-padded after `<END>`.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")
    if length_penalty < 0:
        raise ValueError(f"length_penalty must be at least 0, got {length_penalty}")
    N, B = features.shape[0], beam_size
    state = model.initial_state(np.repeat(features, B, axis=0))  # arrays of N*B rows
    words = np.full(N * B, model._start, dtype=np.int64)
    tokens = np.full((N, B, max_length), model._null, dtype=np.int64)
    scores = np.full((N, B), -np.inf)
    scores[:, 0] = 0.0  # one live hypothesis at the start, not B copies of it
    lengths = np.zeros((N, B))
    finished = np.zeros((N, B), dtype=bool)
    rows = np.arange(N)[:, None]  # (N, 1), broadcast against (N, B) beam indices
    for t in range(max_length):
        step_scores, *state = model.step(words, *state)
        logp = _log_softmax(step_scores).reshape(N, B, -1)  # (N, B, V)
        V = logp.shape[2]
        if block_trigrams:
            # (N*B, max_length) histories; the reshape of logp below is a view, so the bans land
            banned_rows, banned_words = repeated_trigram_words(tokens.reshape(N * B, -1), t)
            logp.reshape(N * B, V)[banned_rows, banned_words] = -np.inf
        candidates = scores[:, :, None] + logp  # (N, B, 1) + (N, B, V) -> (N, B, V)
        candidates[finished] = -np.inf
        candidates[finished, model._null] = scores[finished]
        candidate_lengths = lengths + ~finished  # (N, B)
        penalty = np.maximum(candidate_lengths, 1) ** length_penalty
        ranked = (candidates / penalty[:, :, None]).reshape(N, B * V)  # an image's B*V candidates
        best = np.argsort(-ranked, axis=1, kind="stable")[:, :B]  # (N, B)
        beams, words_nb = best // V, best % V
        scores = candidates.reshape(N, B * V)[rows, best]  # (N, B)
        lengths = candidate_lengths[rows, beams]
        finished = finished[rows, beams] | (words_nb == model._end)
        tokens = tokens[rows, beams]
        tokens[:, :, t] = words_nb
        flat = (rows * B + beams).reshape(-1)  # which (image, beam) each new beam came from
        state, words = [part[flat] for part in state], words_nb.reshape(-1)  # (N*B,) rows
        if finished.all():
            break
    final = np.where(
        np.isfinite(scores), scores / np.maximum(lengths, 1) ** length_penalty, -np.inf
    )
    return tokens[np.arange(N), final.argmax(axis=1)]
