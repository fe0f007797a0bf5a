"""Grounding: replayed captions give the sampler's own probabilities and attention; the
faithfulness check counts garment nouns and sees no effect where the context is cut off; the
strip has one panel per word."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.captioning.grounding import (
    empty_cell_feature,
    faithfulness,
    grounding_figure,
    teacher_forced,
)
from vislab.captioning.numpy_attention_lstm import AttentionCaptioningLSTM
from vislab.captioning.truth_metrics import garment_word_positions

VOCAB = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "bag", "top", "at", "the", "sneaker"]
WORD_TO_IDX = {w: i for i, w in enumerate(VOCAB)}


def _model(seed=0):
    model = AttentionCaptioningLSTM(
        WORD_TO_IDX, 4, 5, 6, dtype=np.float64, rng=np.random.default_rng(seed)
    )
    model.params["W_vocab"] *= 3
    return model


def test_garment_word_positions_skip_place_phrases():
    words = "a top at the top and two ankle boots".split()
    assert garment_word_positions(words) == [(1, 0), (8, 9)]


def test_teacher_forcing_a_greedy_caption_gives_its_argmax_probabilities_and_attention():
    model = _model()
    features = np.random.default_rng(1).standard_normal((5, 4, 4))
    captions, alphas = model.sample_with_attention(features, max_length=6)
    probs, replayed = teacher_forced(model, features, captions)
    h, c, cells, projected = model.initial_state(features)
    scores, *_ = model.step_with_attention(np.full(5, 1), h, c, cells, projected)
    first = np.exp(scores - scores.max(1, keepdims=True))
    np.testing.assert_allclose(probs[:, 0], (first / first.sum(1, keepdims=True)).max(1))
    generated = alphas.sum(axis=2) > 0
    np.testing.assert_allclose(replayed[generated], alphas[generated], atol=1e-12)


def test_faithfulness_counts_nouns_and_is_zero_when_context_is_cut():
    model = _model(2)
    model.params["Wz"][:] = 0.0  # neither the context nor the mean of the cells (h0)
    model.params["W_proj"][:] = 0.0  # reaches the words
    features = np.random.default_rng(3).standard_normal((4, 4, 4))
    captions = np.array([[4, 5, 2, 0], [4, 9, 7, 2], [4, 4, 2, 0], [5, 9, 2, 0]])
    report = faithfulness(model, features, captions, VOCAB, np.zeros(4), np.random.default_rng(0))
    assert report["num_nouns"] == 4 and report["num_scenes"] == 4
    assert report["top_cell_drop"] == pytest.approx(0.0, abs=1e-12)
    assert report["fraction_top_lowers_more"] == 0.0


def test_empty_cell_feature_is_the_most_common_cell():
    grid = np.random.default_rng(0).standard_normal((6, 9, 3)).astype(np.float32)
    grid[:, 4] = [0.5, -1.0, 2.0]
    grid[2, 0] = [0.5, -1.0, 2.0]
    np.testing.assert_allclose(empty_cell_feature(grid), [0.5, -1.0, 2.0])


def test_grounding_figure_has_the_image_and_a_panel_per_word():
    image = np.zeros((64, 64), np.uint8)
    items = [
        (image, ["a", "bag", "top"], np.eye(9)[:3], "truth"),
        (image, ["a"], np.eye(9)[:1], ""),
    ]
    figure = grounding_figure(items, (3, 3))
    assert len(figure.axes) == 2 + 3 + 1
    assert [axes.get_title() for axes in figure.axes[1:4]] == ["a", "bag", "top"]
    assert figure.axes[0].get_xlabel() == "truth"
