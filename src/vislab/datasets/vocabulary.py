"""The caption vocabulary: its special tokens, tokenising, encoding words to ids and back.

In the course's layout a caption is a row of T+1 word ids: `<START>`, the words, `<END>`,
then `<NULL>` padding; every vocabulary starts with the four special tokens, in this order.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import numpy as np

from vislab.errors import InvalidInputError

SPECIAL_TOKENS = ("<NULL>", "<START>", "<END>", "<UNK>")
NULL, START, END, UNK = range(4)  # their ids: the first four words of every vocabulary
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


def decode_words(
    ids: np.ndarray, idx_to_word: list[str], keep_special: bool = False
) -> str | list[str]:
    """Word ids -> text, up to the first `<END>`; `<NULL>` padding is always skipped.

    ids: (T,) one caption -> one string, or (N, T) -> a list of N strings.
    keep_special=False (what metrics compare): only the words, `<UNK>` included.
    keep_special=True (the course's `decode_captions`): `<START>` and the `<END>` kept.
    """
    ids = np.asarray(ids)
    if ids.ndim == 1:
        return _decode_one(ids, idx_to_word, keep_special)
    return [_decode_one(row, idx_to_word, keep_special) for row in ids]


def _decode_one(ids: np.ndarray, idx_to_word: list[str], keep_special: bool) -> str:
    words = []
    for index in ids.tolist():
        word = idx_to_word[int(index)]
        if word == "<END>":
            if keep_special:
                words.append(word)
            break
        if word == "<NULL>" or (word == "<START>" and not keep_special):
            continue
        words.append(word)
    return " ".join(words)
