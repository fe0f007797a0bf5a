"""Truth scoring: the scene captions' own references parse perfectly; wrong claims are caught."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.captioning.sets.scene_captions import describe_scene
from vislab.captioning.sets.scenes import LAYOUTS
from vislab.captioning.truth_metrics import (
    describe_truth,
    parse_caption,
    score_against_truth,
    truth_from_array,
)


def _random_scenes(count: int, seed: int):
    rng = np.random.default_rng(seed)
    scenes = []
    for _ in range(count):
        size = int(rng.integers(1, 4))
        layout = LAYOUTS[size][int(rng.integers(len(LAYOUTS[size])))]
        # Repeated classes often, so same-class wording ("two sneakers side by side") shows up.
        labels = rng.integers(0, 10 if rng.random() < 0.5 else 2, size=size).tolist()
        scenes.append([(label, r, c) for label, (r, c) in zip(labels, layout, strict=True)])
    return scenes, rng


def test_reference_captions_parse_to_full_precision_places_and_counts():
    scenes, rng = _random_scenes(300, seed=0)
    captions, truths = [], []
    for garments in scenes:
        for caption in describe_scene(
            [g[0] for g in garments], [(g[1], g[2]) for g in garments], rng
        ):
            captions.append(caption)
            truths.append(garments)
    scores = score_against_truth(captions, truths)
    assert scores["class_precision"] == 1.0
    assert scores["position_accuracy"] == 1.0
    assert scores["count_accuracy"] == 1.0
    assert scores["num_places"] > 500  # places are really being read
    # Some templates name only part of the scene ("... and two other garments").
    assert 0.8 < scores["class_recall"] < 1.0
    assert 0.6 < scores["exact_scene_rate"] < 1.0


def test_parse_reads_nouns_counts_places_and_totals():
    parsed = parse_caption("two ankle boots at the top left and a pair of pants on the right")
    assert dict(parsed.named) == {9: 2, 1: 1}
    assert parsed.places == [(9, (0, 0)), (1, (1, 2))]
    assert parsed.total == 3
    # "top" is a t-shirt only outside a place phrase.
    parsed = parse_caption("a top at the top center")
    assert dict(parsed.named) == {0: 1} and parsed.places == [(0, (0, 1))]
    assert parse_caption("a bag at the bottom and two other garments").total == 3
    assert parse_caption("three pieces of clothing with a dress").total == 3
    assert parse_caption("nothing to see").total is None


@pytest.mark.parametrize(
    ("caption", "changed"),
    [
        ("a sneaker at the top left and a bag at the bottom right", {}),
        ("a sneaker at the bottom right and a bag at the top left", {"position_accuracy": 0.0}),
        ("a sneaker at the top left", {"class_recall": 0.5, "count_accuracy": 0.0}),
        ("a sneaker, a bag and a dress", {"class_precision": 2 / 3, "count_accuracy": 0.0}),
        ("two sneakers and a bag", {"class_precision": 2 / 3, "count_accuracy": 0.0}),
    ],
)
def test_wrong_claims_lower_exactly_their_score(caption, changed):
    truth = [[(7, 0, 0), (8, 2, 2)]]
    scores = score_against_truth([caption], truth)
    perfect = {
        "class_precision": 1.0,
        "class_recall": 1.0,
        "count_accuracy": 1.0,
        "position_accuracy": 1.0,
    }
    for name, value in (perfect | changed).items():
        if name == "position_accuracy" and scores["num_places"] == 0:
            continue
        assert scores[name] == pytest.approx(value), name
    assert scores["exact_scene_rate"] == (1.0 if not changed else 0.0)


def test_place_without_a_garment_is_wrong_and_truth_array_round_trips():
    scores = score_against_truth(["at the top left"], [[(3, 0, 0)]])
    assert scores["num_places"] == 1 and scores["position_accuracy"] == 0.0
    array = np.array([[[3, 0, 0], [-1, -1, -1]], [[1, 2, 2], [4, 0, 0]]])
    assert truth_from_array(array) == [[(3, 0, 0)], [(1, 2, 2), (4, 0, 0)]]


def test_describe_truth_parses_back_to_the_truth():
    garments = [(7, 0, 0), (8, 2, 2)]
    text = describe_truth(garments)
    assert text == "sneaker at the top left, bag at the bottom right"
    assert score_against_truth([text], [garments])["exact_scene_rate"] == 1.0
