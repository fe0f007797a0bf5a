"""Truth scores per subset (all / seen / novel) and the references' leave-one-out ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.captioning.evaluation import evaluate_captioner
from vislab.captioning.truth_evaluation import (
    format_truth,
    reference_ceiling,
    reference_truth_scores,
    truth_report,
)


def _data():
    truth = np.array([[[7, 0, 0], [-1, -1, -1]], [[8, 2, 2], [3, 0, 0]], [[5, 1, 1], [-1, -1, -1]]])
    return {"val_truth": truth, "val_novel": np.array([False, True, False])}


def test_truth_report_splits_seen_and_novel():
    generated = ["a sneaker at the top left", "a bag at the bottom right and a dress", "a bag"]
    report = truth_report(_data(), "val", [0, 1, 2], generated)
    assert report["all"]["num_scenes"] == 3
    assert report["novel"]["exact_scene_rate"] == 1.0 and report["novel"]["num_scenes"] == 1
    assert report["seen"]["exact_scene_rate"] == 0.5 and report["seen"]["num_scenes"] == 2
    assert report["seen"]["class_precision"] == 0.5
    assert "exact 0.500 (n=2)" in format_truth(report["seen"])
    assert truth_report({}, "val", [0], ["a bag"]) == {}
    without_novel = {"val_truth": _data()["val_truth"]}
    assert list(truth_report(without_novel, "val", [0, 1, 2], generated)) == ["all"]


def test_reference_ceiling_of_agreeing_references_is_perfect():
    words = "one two three four five six seven eight".split()
    references = {i: [f"{w} is on the mat", f"{w} is on the mat"] for i, w in enumerate(words)}
    ceiling = reference_ceiling(references)
    assert ceiling["BLEU-4"] == pytest.approx(1.0)
    assert ceiling["CIDEr-D"] > 5
    references[0] = ["one is on the mat", "nothing like it at all here"]
    assert reference_ceiling(references)["BLEU-4"] < ceiling["BLEU-4"]


def test_reference_truth_scores_read_every_reference():
    references = {0: ["a sneaker at the top left", "a sneaker"], 2: ["a sandal in the center"]}
    scores = reference_truth_scores(_data(), "val", references)
    assert scores["num_scenes"] == 3 and scores["exact_scene_rate"] == 1.0


class _Echo:
    """Captions every scene with the same fixed words."""

    model_name = "echo"
    idx_to_word = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "sneaker"]

    def sample(self, features, max_length, beam_size):
        return np.tile([4, 5, 2], (len(features), 1))


def test_evaluate_captioner_adds_truth_and_ceiling():
    data = _data() | {
        "val_features": np.zeros((3, 2), np.float32),
        "val_captions": np.array([[1, 4, 5, 2]] * 6),
        "val_image_idxs": np.repeat(np.arange(3), 2),
        "idx_to_word": _Echo.idx_to_word,
        "val_urls": np.array(["a", "b", "c"]),
    }
    evaluation = evaluate_captioner(_Echo(), data, ceiling=True)
    assert evaluation.truth["all"]["class_precision"] == pytest.approx(1 / 3)
    assert evaluation.reference_truth["class_precision"] == pytest.approx(1 / 3)
    assert set(evaluation.reference_ceiling) == set(evaluation.scores)
    assert evaluate_captioner(_Echo(), data).reference_ceiling == {}
