"""Shared steps of the caption-set builders: tokenising, vocabulary, encoding, PCA."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.datasets import feature_pca
from vislab.datasets.caption_text import (
    build_vocabulary,
    decode_words,
    encode_captions,
    tokenize,
)
from vislab.datasets.feature_pca import fit_pca
from vislab.errors import InvalidInputError


def test_tokenize_lowercases_and_drops_punctuation_but_keeps_compound_words():
    assert tokenize("A T-shirt, next to a man's BAG!") == [
        "a",
        "t-shirt",
        "next",
        "to",
        "a",
        "man's",
        "bag",
    ]
    assert tokenize("  ...  ") == []
    with pytest.raises(InvalidInputError):
        tokenize(3)


def test_vocabulary_is_special_tokens_then_words_by_count():
    captions = [["a", "bag"], ["a", "dress"], ["a", "bag", "zebra"]]
    assert build_vocabulary(captions) == [
        "<NULL>",
        "<START>",
        "<END>",
        "<UNK>",
        "a",
        "bag",
        "dress",
        "zebra",
    ]
    assert build_vocabulary(captions, min_count=2) == [
        "<NULL>",
        "<START>",
        "<END>",
        "<UNK>",
        "a",
        "bag",
    ]


def test_encode_pads_marks_unknown_words_and_cuts_long_captions():
    idx_to_word = build_vocabulary([["a", "bag"]])
    word_to_idx = {w: i for i, w in enumerate(idx_to_word)}
    ids = encode_captions([["a", "red", "bag"], ["a", "bag", "a", "bag", "a"]], word_to_idx, 6)
    assert ids.dtype == np.int32
    assert ids.tolist() == [[1, 4, 3, 5, 2, 0], [1, 4, 5, 4, 5, 2]]
    assert decode_words(ids[0], idx_to_word) == "a <UNK> bag"
    assert decode_words(np.array([1, 4, 2, 5, 5]), idx_to_word) == "a"  # stops at <END>


def _low_rank(n: int, d: int, rank: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = np.linspace(10, 1, rank)[:, None]
    return rng.standard_normal((n, rank)) @ (
        scales * rng.standard_normal((rank, d))
    ) + 0.01 * rng.standard_normal((n, d))


@pytest.mark.parametrize(
    ("n", "d", "exact_max_dim"),
    [(300, 40, 1024), (30, 60, 1024), (300, 40, 16)],
    ids=["covariance-eigh", "gram-eigh", "randomized"],
)
def test_pca_finds_the_top_eigenvectors_on_every_path(n, d, exact_max_dim, monkeypatch):
    monkeypatch.setattr(feature_pca, "EXACT_MAX_DIM", exact_max_dim)
    x = _low_rank(n, d, rank=8).astype(np.float32)
    pca = fit_pca(x, num_components=8)
    assert pca.components.shape == (d, 8)
    np.testing.assert_allclose(pca.components.T @ pca.components, np.eye(8), atol=1e-6)
    centred = x - x.mean(axis=0)
    exact = np.linalg.eigvalsh(np.cov(centred.T))[::-1][:8]
    captured = np.var(centred @ pca.components, axis=0, ddof=1)
    np.testing.assert_allclose(captured, exact, rtol=1e-3)
    projected = pca.transform(x)
    assert projected.dtype == np.float32 and projected.shape == (n, 8)
    assert np.array_equal(fit_pca(x, 8).components, pca.components)  # deterministic


def test_pca_keeps_at_most_n_minus_one_axes_and_rejects_one_row():
    assert fit_pca(np.random.default_rng(0).random((5, 20)), 512).components.shape == (20, 4)
    with pytest.raises(InvalidInputError):
        fit_pca(np.ones((1, 4)))
