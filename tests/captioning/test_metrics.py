"""BLEU and CIDEr-D through pycocoevalcap, on cases whose values are known by hand."""

from __future__ import annotations

import math

import pytest

from vislab.captioning.metrics import caption_scores, format_scores
from vislab.errors import InvalidInputError


def test_identical_captions_score_bleu_one_and_cider_d_ten():
    references = {1: ["a bag on the left side"], 2: ["two sneakers side by side"]}
    scores = caption_scores(references, {k: v[0] for k, v in references.items()})
    for n in range(1, 5):
        assert scores[f"BLEU-{n}"] == pytest.approx(1.0, abs=1e-6)
    assert scores["CIDEr-D"] == pytest.approx(10.0, abs=1e-9)


def test_bleu_matches_the_hand_computed_precisions():
    # candidate "a b c d" vs reference "a b c e": p1 = 3/4, p2 = 2/3, p3 = 1/2, same length.
    scores = caption_scores({0: ["a b c e"]}, {0: "a b c d"})
    assert scores["BLEU-1"] == pytest.approx(0.75, abs=1e-6)
    assert scores["BLEU-2"] == pytest.approx(math.sqrt(0.75 * 2 / 3), abs=1e-6)
    assert scores["BLEU-3"] == pytest.approx((0.75 * 2 / 3 * 0.5) ** (1 / 3), abs=1e-6)
    assert scores["BLEU-4"] < 1e-3  # no matching 4-gram


def test_bleu_brevity_penalty_against_the_closest_reference():
    # "a b" against "a b c d": p1 = p2 = 1, brevity penalty exp(1 - 4/2) = e^-1.
    scores = caption_scores({0: ["a b c d"]}, {0: "a b"})
    assert scores["BLEU-1"] == pytest.approx(math.exp(-1), abs=1e-6)


def test_cider_d_averages_the_four_ngram_orders_by_hand():
    # Two images, two-word captions repeated exactly: unigram and bigram cosines are 1, there
    # are no 3- or 4-grams (cosine 0), so CIDEr-D = 10 * (1 + 1 + 0 + 0) / 4 = 5.
    scores, each = caption_scores(
        {"x": ["a b"], "y": ["c d"]}, {"x": "a b", "y": "c d"}, per_image=True
    )
    assert scores["CIDEr-D"] == pytest.approx(5.0, abs=1e-9)
    assert each["CIDEr-D"].tolist() == pytest.approx([5.0, 5.0], abs=1e-9)


def test_unrelated_captions_score_zero_and_all_references_count():
    references = {1: ["a red bag", "a bag on the left"], 2: ["two white sneakers"]}
    zero = caption_scores(references, {1: "x y z", 2: "q r s"})
    assert zero["CIDEr-D"] == pytest.approx(0.0, abs=1e-12)
    assert zero["BLEU-1"] < 1e-6
    # Matching the second reference exactly is as good as matching the first.
    second = caption_scores(references, {1: "a bag on the left", 2: "two white sneakers"})
    assert second["BLEU-4"] == pytest.approx(1.0, abs=1e-6)


def test_mismatched_ids_and_empty_references_are_errors():
    with pytest.raises(InvalidInputError, match="different images"):
        caption_scores({1: ["a"]}, {2: "a"})
    with pytest.raises(InvalidInputError, match="no reference"):
        caption_scores({1: []}, {1: "a"})
    assert format_scores({"BLEU-4": 0.25, "CIDEr-D": 1.5}) == "BLEU-4 0.250  CIDEr-D 1.500"
