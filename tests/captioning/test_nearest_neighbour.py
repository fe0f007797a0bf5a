"""The nearest-neighbour baseline: neighbours by cosine, the consensus caption, and its scores."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vislab.captioning.evaluation import evaluate_nearest_neighbour, write_evaluation
from vislab.captioning.nearest_neighbour import NearestNeighbourCaptioner
from vislab.datasets.coco import write_coco_data
from vislab.datasets.vocabulary import build_vocabulary, decode_words, encode_captions
from vislab.errors import InvalidInputError

# Two clusters of training images, three images each, one caption per image.
CLUSTERS = {
    "bags": ["a red bag on the left", "a red bag on the left", "a small bag on a table"],
    "shoes": ["two white sneakers side by side", "two sneakers side by side", "a shoe"],
}


def _train_set():
    texts = CLUSTERS["bags"] + CLUSTERS["shoes"]
    idx_to_word = build_vocabulary(t.split() for t in texts)
    word_to_idx = {w: i for i, w in enumerate(idx_to_word)}
    captions = encode_captions([t.split() for t in texts], word_to_idx, 12)
    rng = np.random.default_rng(0)
    centres = np.repeat(np.eye(4)[[0, 1]], 3, axis=0)  # (6, 4): bags near e0, shoes near e1
    features = (centres + 0.05 * rng.standard_normal((6, 4))).astype(np.float32)
    return features, captions, np.arange(6), idx_to_word, word_to_idx


def test_neighbours_are_ranked_by_cosine_similarity():
    features, captions, image_idxs, idx_to_word, _ = _train_set()
    baseline = NearestNeighbourCaptioner(features, captions, image_idxs, idx_to_word, 3)
    neighbours = baseline.neighbours(np.array([[10.0, 0.1, 0, 0], [0.0, 3.0, 0, 0]]))
    assert set(neighbours[0]) == {0, 1, 2} and set(neighbours[1]) == {3, 4, 5}
    similarity = (
        features[neighbours[0]] @ [1, 0.01, 0, 0] / np.linalg.norm(features[neighbours[0]], axis=1)
    )
    assert np.all(np.diff(similarity) <= 1e-9)  # most similar first
    with pytest.raises(InvalidInputError, match="dimensions"):
        baseline.neighbours(np.ones((1, 3)))


def test_features_that_are_not_finite_are_refused():
    features, captions, image_idxs, idx_to_word, _ = _train_set()
    baseline = NearestNeighbourCaptioner(features, captions, image_idxs, idx_to_word, 3)
    with pytest.raises(InvalidInputError, match="features to caption hold NaN"):
        baseline.sample(np.array([[np.nan, 0, 0, 0]]))
    features[2, 1] = np.inf
    with pytest.raises(InvalidInputError, match="training features hold NaN"):
        NearestNeighbourCaptioner(features, captions, image_idxs, idx_to_word, 3)


def test_consensus_is_the_caption_most_like_the_others():
    features, captions, image_idxs, idx_to_word, _ = _train_set()
    baseline = NearestNeighbourCaptioner(features, captions, image_idxs, idx_to_word, 3)
    ids = baseline.sample(np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]), max_length=10)
    assert ids.shape == (2, 10)
    texts = [decode_words(row, idx_to_word) for row in ids]
    assert texts == ["a red bag on the left", "two sneakers side by side"]
    assert ids[0, 6] == 2 and np.all(ids[0, 7:] == 0)  # <END>, then <NULL>
    # One neighbour: its caption is the answer.
    nearest = NearestNeighbourCaptioner(features, captions, image_idxs, idx_to_word, 1)
    row = nearest.consensus_rows(features[5:6])
    assert row.tolist() == [5]


def test_baseline_evaluation_end_to_end(tmp_path):
    features, captions, image_idxs, idx_to_word, word_to_idx = _train_set()
    val_texts = ["a red bag on the left", "a red bag", "two sneakers side by side", "two shoes"]
    val_captions = encode_captions([t.split() for t in val_texts], word_to_idx, 12)
    write_coco_data(
        tmp_path,
        train_captions=captions,
        train_image_idxs=image_idxs,
        val_captions=val_captions,
        val_image_idxs=np.array([0, 0, 1, 1]),
        train_features=features,
        val_features=np.eye(4, dtype=np.float32)[[0, 1]],
        idx_to_word=idx_to_word,
        train_urls=[f"train{i}.png" for i in range(6)],
        val_urls=["val0.png", "val1.png"],
    )
    evaluation = evaluate_nearest_neighbour(tmp_path, num_neighbours=3)
    assert evaluation.num_images == 2 and evaluation.model == "nearest-neighbour"
    assert evaluation.scores["BLEU-4"] == pytest.approx(1.0, abs=1e-6)
    assert [e["generated"] for e in evaluation.examples] == [val_texts[0], val_texts[2]]
    saved = json.loads(write_evaluation(evaluation, tmp_path / "eval.json").read_text())
    assert saved["scores"]["BLEU-1"] == pytest.approx(1.0, abs=1e-6)
    assert saved["examples"][1]["references"] == [val_texts[2], "two <UNK>"]  # not in vocab
