"""Reference captions for Fashion-MNIST scenes: which garments, how many, where, relations.

A scene places garments in cells of a 3 x 3 grid (row, column; 0 = top / left). Captions are
drawn from several English sentence patterns with varied wording, at most MAX_WORDS words,
so that `<START>` + words + `<END>` fits the course's T + 1 = 17 ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vislab.datasets.vocabulary import tokenize

MAX_WORDS = 15
CAPTIONS_PER_IMAGE = 5

# Per Fashion-MNIST class: (singular, plural) names, the first being the usual one.
NAMES = (
    (("t-shirt", "t-shirts"), ("top", "tops")),
    (("pair of trousers", "pairs of trousers"), ("pair of pants", "pairs of pants")),
    (("pullover", "pullovers"), ("sweater", "sweaters")),
    (("dress", "dresses"),),
    (("coat", "coats"), ("jacket", "jackets")),
    (("sandal", "sandals"),),
    (("shirt", "shirts"),),
    (("sneaker", "sneakers"),),
    (("bag", "bags"), ("handbag", "handbags")),
    (("ankle boot", "ankle boots"), ("boot", "boots")),
)
# Location phrases per grid cell, short first.
PLACES = {
    (0, 0): ("at the top left", "in the top left corner"),
    (0, 1): ("at the top", "at the top center"),
    (0, 2): ("at the top right", "in the top right corner"),
    (1, 0): ("on the left", "on the left side"),
    (1, 1): ("in the center", "in the middle"),
    (1, 2): ("on the right", "on the right side"),
    (2, 0): ("at the bottom left", "in the bottom left corner"),
    (2, 1): ("at the bottom", "at the bottom center"),
    (2, 2): ("at the bottom right", "in the bottom right corner"),
}
NUMBERS = ("one", "two", "three")


@dataclass
class _Phrases:
    """Wording helpers for one caption; every choice is drawn from `rng`."""

    labels: list[int]
    cells: list[tuple[int, int]]
    rng: np.random.Generator

    def noun(self, i: int, plural: bool = False) -> str:
        names = NAMES[self.labels[i]]
        # The usual name three times in four, so the references agree on most words.
        pick = names[0] if len(names) == 1 or self.rng.random() < 0.75 else names[1]
        return pick[1] if plural else pick[0]

    def thing(self, i: int) -> str:
        noun = self.noun(i)
        return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"

    def place(self, i: int) -> str:
        return str(self.rng.choice(PLACES[self.cells[i]]))

    def relation(self, i: int, j: int) -> str | None:
        """Where garment i is relative to garment j, or None when no word fits."""
        (ri, ci), (rj, cj) = self.cells[i], self.cells[j]
        options = []
        if rj - ri == 2:
            options.append("above")
        if ri - rj == 2:
            options.append("below")
        if cj - ci == 2:
            options += ["to the left of", "left of"]
        if ci - cj == 2:
            options += ["to the right of", "right of"]
        if ri == rj:
            options += ["next to", "beside"]
        return str(self.rng.choice(options)) if options else None

    def listing(self) -> str:
        """All garments, same classes counted: 'two sneakers and a bag'."""
        order = list(dict.fromkeys(self.labels))
        parts = []
        for label in order:
            count = self.labels.count(label)
            first = self.labels.index(label)
            parts.append(
                self.thing(first)
                if count == 1
                else f"{NUMBERS[count - 1]} {self.noun(first, plural=True)}"
            )
        return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


Pattern = Callable[[_Phrases], "str | None"]


def _pair_relation(p: _Phrases, i: int, j: int) -> str | None:
    relation = p.relation(i, j)
    return None if relation is None else f"{p.thing(i)} {relation} {p.thing(j)}"


def _same_pair(p: _Phrases) -> str | None:
    """'two sneakers side by side' when both garments are of one class."""
    if p.labels[0] != p.labels[1]:
        return None
    (r0, c0), (r1, c1) = p.cells
    if r0 == r1:
        where = "side by side"
    elif c0 == c1:
        where = "one above the other"
    elif abs(r0 - r1) == abs(c0 - c1) == 2:
        where = "in opposite corners"
    else:
        return None
    return f"two {p.noun(0, plural=True)} {where}"


SINGLE: tuple[Pattern, ...] = (
    lambda p: f"{p.thing(0)} {p.place(0)}",
    lambda p: f"a picture of {p.thing(0)} {p.place(0)}",
    lambda p: f"a single {p.noun(0)} {p.place(0)}",
    lambda p: f"there is {p.thing(0)} {p.place(0)}",
    lambda p: f"{p.thing(0)} on a black background",
    lambda p: f"only one {p.noun(0)} {p.place(0)} of the image",
    lambda p: f"an image with just {p.thing(0)}",
)
PAIR: tuple[Pattern, ...] = (
    lambda p: _pair_relation(p, 0, 1),
    lambda p: _pair_relation(p, 1, 0),
    lambda p: f"{p.thing(0)} {p.place(0)} and {p.thing(1)} {p.place(1)}",
    lambda p: None if p.labels[0] == p.labels[1] else f"two garments: {p.listing()}",
    lambda p: _same_pair(p),
    lambda p: f"a picture of {p.listing()}",
    lambda p: f"{p.thing(1)} {p.place(1)} and {p.thing(0)}",
    lambda p: f"there is {p.thing(0)} {p.place(0)} with {p.thing(1)}",
    lambda p: f"{p.listing()} on a black background",
)
TRIPLE: tuple[Pattern, ...] = (
    lambda p: p.listing(),
    lambda p: None if len(set(p.labels)) == 1 else f"three garments: {p.listing()}",
    lambda p: f"a picture of {p.listing()}",
    lambda p: f"three pieces of clothing with {p.thing(0)} {p.place(0)}",
    lambda p: f"{p.thing(2)} {p.place(2)} and two other garments",
    lambda p: _pair_relation(p, 0, 1) and f"{_pair_relation(p, 0, 1)} and {p.thing(2)}",
    lambda p: _pair_relation(p, 2, 0) and f"{_pair_relation(p, 2, 0)} and {p.thing(1)}",
    lambda p: f"{p.thing(1)} {p.place(1)} with {p.thing(0)} and {p.thing(2)}",
)
PATTERNS = {1: SINGLE, 2: PAIR, 3: TRIPLE}


def describe_scene(
    labels: list[int], cells: list[tuple[int, int]], rng: np.random.Generator
) -> list[str]:
    """CAPTIONS_PER_IMAGE different captions, each at most MAX_WORDS words.

    labels: the Fashion-MNIST class of each garment; cells: its (row, column) grid cell, in
    reading order (top to bottom, then left to right).
    """
    phrases = _Phrases(list(labels), list(cells), rng)
    patterns = PATTERNS[len(labels)]
    captions: list[str] = []
    for _ in range(20):  # a few rounds of fresh wording always suffice; bounded regardless
        for index in rng.permutation(len(patterns)):
            text = patterns[index](phrases)
            if text and len(tokenize(text)) <= MAX_WORDS and text not in captions:
                captions.append(text)
            if len(captions) == CAPTIONS_PER_IMAGE:
                return captions
    raise AssertionError(f"could not word 5 captions for labels {labels} in cells {cells}")
