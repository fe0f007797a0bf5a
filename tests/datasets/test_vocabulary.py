"""The caption vocabulary: tokenising, special tokens first, encoding and decoding both ways."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.datasets.vocabulary import (
    build_vocabulary,
    decode_words,
    encode_captions,
    tokenize,
)
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
    with pytest.raises(InvalidInputError, match="must be a string, got int"):
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


def test_decoding_keeps_the_special_tokens_only_when_asked():
    idx_to_word = build_vocabulary([["a", "dog"]])  # a=4, dog=5
    ids = np.array([[1, 4, 0, 3, 5, 2, 4], [1, 5, 2, 0, 0, 0, 0]])
    assert decode_words(ids, idx_to_word) == ["a <UNK> dog", "dog"]
    assert decode_words(ids, idx_to_word, keep_special=True) == [
        "<START> a <UNK> dog <END>",
        "<START> dog <END>",
    ]
    assert decode_words(ids[1], idx_to_word, keep_special=True) == "<START> dog <END>"
