"""Captions of Fashion-MNIST scenes read against the scene's truth: which garments, how many, where.

A caption is parsed with the scene captions' own vocabulary (`NAMES`, `PLACES`, `NUMBERS` of
`scene_captions`): garment nouns (longest phrase first, so "ankle boot" is not "boot"), the
number word before a noun ("two sneakers"; singular nouns count 1, a bare plural 2), place
phrases (bound to the garment named last before them), and the templates' totals ("three
garments", "three pieces of clothing", "and two other garments"). Relations ("above",
"left of") are not scored.

Scores over a set of scenes (micro-averaged):
- class precision / recall: multiset overlap of the named classes with the scene's classes,
  over all named / all present garments; class F1 their harmonic mean;
- count accuracy: the caption's number of garments (its total phrase, else the named count)
  equals the scene's;
- position accuracy: a place phrase names a cell that holds a garment of the class it is
  bound to (a place bound to no garment is wrong);
- exact-scene rate: the named multiset equals the scene's (every garment named, counts
  right, nothing extra) and no place phrase is wrong.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from vislab.captioning.sets.scene_captions import NAMES, NUMBERS, PLACES
from vislab.datasets.vocabulary import tokenize

# One garment of a scene's truth: (class, row, column).
Garment = tuple[int, int, int]

_NOUNS = {
    tuple(tokenize(name)): (label, plural)
    for label, synonyms in enumerate(NAMES)
    for pair in synonyms
    for plural, name in enumerate(pair)
}
_PLACES = {tuple(tokenize(phrase)): cell for cell, phrases in PLACES.items() for phrase in phrases}
_COUNTS = {word: index + 1 for index, word in enumerate(NUMBERS)} | {"a": 1, "an": 1, "single": 1}
# The templates' words for "some garments" (not garment classes): "three pieces of clothing".
_COLLECTIVES = (("garments",), ("pieces", "of", "clothing"))
_OTHER = "other"
_LONGEST = max(len(key) for key in (*_NOUNS, *_PLACES, *_COLLECTIVES))


@dataclass
class ParsedCaption:
    """What a caption claims: class -> number named, (class or None, cell) per place phrase,
    and the number of garments it says the scene has (None when it does not say)."""

    named: Counter = field(default_factory=Counter)
    places: list[tuple[int | None, tuple[int, int]]] = field(default_factory=list)
    total: int | None = None


def _match(words: list[str], start: int, table) -> tuple[int, object] | None:
    """Longest phrase of `table` at words[start:] -> (its length, its value), or None."""
    for length in range(min(_LONGEST, len(words) - start), 0, -1):
        key = tuple(words[start : start + length])
        if key in table:
            return length, table[key] if isinstance(table, dict) else key
    return None


def parse_caption(caption: str) -> ParsedCaption:
    """Read the garments, counts and places a caption names (see the module docstring)."""
    words = tokenize(caption)
    parsed = ParsedCaption()
    last_label, extra, position = None, 0, 0
    while position < len(words):
        previous = words[position - 1] if position else ""
        place = _match(words, position, _PLACES)
        if place is not None:
            parsed.places.append((last_label, place[1]))
            position += place[0]
            continue
        noun = _match(words, position, _NOUNS)
        if noun is not None:
            label, plural = noun[1]
            parsed.named[label] += _COUNTS.get(previous, 2 if plural else 1)
            last_label = label
            position += noun[0]
            continue
        collective = _match(words, position, _COLLECTIVES)
        if collective is not None:
            number_word = words[position - 2] if previous == _OTHER and position > 1 else previous
            if number_word in _COUNTS:
                if previous == _OTHER:
                    extra += _COUNTS[number_word]
                else:
                    parsed.total = _COUNTS[number_word]
            position += collective[0]
            continue
        position += 1
    if parsed.total is None:
        parsed.total = sum(parsed.named.values()) + extra if parsed.named or extra else None
    return parsed


def garment_word_positions(words: list[str]) -> list[tuple[int, int]]:
    """(position of the noun's last word, class) for each garment noun in words, read as
    `parse_caption` reads them ("top" in "at the top" is a place, not a t-shirt)."""
    found, position = [], 0
    while position < len(words):
        place = _match(words, position, _PLACES)
        noun = None if place is not None else _match(words, position, _NOUNS)
        if noun is not None:
            found.append((position + noun[0] - 1, noun[1][0]))
        position += place[0] if place else noun[0] if noun else 1
    return found


def describe_truth(garments: list[Garment]) -> str:
    """The truth in words: 'sneaker at the top left, bag at the bottom right'."""
    return ", ".join(
        f"{NAMES[label][0][0]} {PLACES[(row, col)][0]}" for label, row, col in garments
    )


def truth_from_array(truth: np.ndarray) -> list[list[Garment]]:
    """truth: (num_images, G, 3) int rows (class, row, column), -1-padded -> garment lists."""
    return [[tuple(int(v) for v in row) for row in scene if row[0] >= 0] for scene in truth]


def score_against_truth(captions: list[str], truths: list[list[Garment]]) -> dict[str, float]:
    """Score captions (one per scene) against the scenes' garments; see the module docstring.

    Returns class_precision, class_recall, class_f1, count_accuracy, position_accuracy,
    exact_scene_rate (fractions in [0, 1]), num_scenes and num_places.
    """
    if len(captions) != len(truths):
        raise ValueError(f"{len(captions)} captions for {len(truths)} scenes")
    matched = named = present = counts_right = exact = places = places_right = 0
    for caption, garments in zip(captions, truths, strict=True):
        parsed = parse_caption(caption)
        truth = Counter(label for label, _, _ in garments)
        matched += sum((parsed.named & truth).values())
        named += sum(parsed.named.values())
        present += len(garments)
        counts_right += parsed.total == len(garments)
        cells = {(label, (row, col)) for label, row, col in garments}
        right = sum(place in cells for place in parsed.places)
        places += len(parsed.places)
        places_right += right
        exact += parsed.named == truth and right == len(parsed.places)
    precision = matched / named if named else 0.0
    recall = matched / present if present else 0.0
    scenes = max(len(captions), 1)
    return {
        "class_precision": precision,
        "class_recall": recall,
        "class_f1": 2 * precision * recall / (precision + recall) if matched else 0.0,
        "count_accuracy": counts_right / scenes,
        "position_accuracy": places_right / places if places else 0.0,
        "exact_scene_rate": exact / scenes,
        "num_scenes": len(captions),
        "num_places": places,
    }
