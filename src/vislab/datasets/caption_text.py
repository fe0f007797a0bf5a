"""Caption text for the caption-set builders: tokenise, build the vocabulary, encode to ids.

Both builders (Fashion-MNIST scenes and your own photos) write the course's layout, where a
caption is a row of T+1 word ids: `<START>`, the words, `<END>`, then `<NULL>` padding.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import numpy as np

from vislab.datasets.coco import SPECIAL_TOKENS
from vislab.errors import InvalidInputError

NULL, START, END, UNK = range(4)
# Words are runs of letters and digits, optionally joined by hyphens or apostrophes
# ("t-shirt", "man's"); all other characters (punctuation) separate words.
_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


def tokenize(caption: str) -> list[str]:
    """Lower-case a caption and split it into words, dropping punctuation."""
    if not isinstance(caption, str):
        raise InvalidInputError(f"a caption must be a string, got {type(caption).__name__}")
    return _WORD.findall(caption.lower())


def build_vocabulary(captions: Iterable[list[str]], min_count: int = 1) -> list[str]:
    """idx_to_word: the four special tokens, then words seen at least `min_count` times.

    Words are ordered by decreasing count, ties alphabetically, so the result is deterministic.
    """
    if min_count < 1:
        raise InvalidInputError(f"min_count must be at least 1, got {min_count}")
    counts = Counter(word for words in captions for word in words)
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return list(SPECIAL_TOKENS) + [w for w in kept if w not in SPECIAL_TOKENS]


def encode_captions(
    captions: list[list[str]], word_to_idx: dict[str, int], length: int
) -> np.ndarray:
    """Word lists -> int32 ids (N, length): `<START>` w1 .. wk `<END>` `<NULL>`...

    Words missing from the vocabulary become `<UNK>`; captions longer than length - 2 words
    are cut (the caller decides whether that is an error).
    """
    out = np.full((len(captions), length), NULL, dtype=np.int32)
    for row, words in enumerate(captions):
        ids = [word_to_idx.get(word, UNK) for word in words[: length - 2]]
        out[row, : len(ids) + 2] = [START, *ids, END]
    return out


def decode_words(ids: np.ndarray, idx_to_word: list[str]) -> str:
    """ids: (T,) -> the words between `<START>` and `<END>`, joined by spaces.

    Special tokens other than `<UNK>` are dropped, so the text is what metrics compare.
    """
    words = []
    for index in np.asarray(ids).tolist():
        if index == END:
            break
        if index not in (NULL, START):
            words.append(idx_to_word[index])
    return " ".join(words)
