"""The Fashion-MNIST scene caption builder: layout, captions, pixel-only features, determinism."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import h5py
import numpy as np
import pytest
import torch
from PIL import Image

from vislab.backbones import load_fmnist_cnn
from vislab.captioning.sets.scene_captions import MAX_WORDS, describe_scene
from vislab.captioning.sets.scenes import (
    ANCHORS,
    CANVAS,
    GRID_PCA_DIM,
    LAYOUTS,
    RAW_FEATURE_DIM,
    build_scene_captions,
    combination,
    held_out_combinations,
    is_built,
    read_garments,
    sample_scenes,
    scene_features,
)
from vislab.captioning.truth_metrics import score_against_truth, truth_from_array
from vislab.datasets import read_idx, write_idx
from vislab.datasets.coco import features_file, load_coco_data
from vislab.datasets.feature_pca import fit_pca
from vislab.datasets.vocabulary import decode_words
from vislab.errors import InvalidInputError

NUM_TRAIN, NUM_VAL = 30, 6


@pytest.fixture(scope="module")
def cnn():
    return load_fmnist_cnn()


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory) -> Path:
    """Garment-like fixtures: train images are all 60s, test images all 250s (told apart)."""
    folder = tmp_path_factory.mktemp("idx")
    rng = np.random.default_rng(0)
    for prefix, count, value in (("train", 40, 60), ("t10k", 20, 250)):
        images = np.zeros((count, 28, 28), dtype=np.uint8)
        images[:, 4:24, 6:22] = value
        images[:, 4:24, 6:22] *= rng.random((count, 20, 16)) < 0.8
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(count) % 10).astype("u1"))
    return folder


@pytest.fixture(scope="module")
def built(idx_dir, cnn, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scenes")
    return build_scene_captions(
        out, seed=3, num_train=NUM_TRAIN, num_val=NUM_VAL, fmnist_dir=idx_dir, cnn=cnn
    )


def _h5(path: Path, key: str = "features") -> np.ndarray:
    with h5py.File(path, "r") as handle:
        return np.asarray(handle[key])


def test_layout_round_trips_through_load_coco_data(built):
    data = load_coco_data(built)
    assert is_built(built)
    assert data["train_captions"].shape == (5 * NUM_TRAIN, 17)
    assert data["train_captions"].dtype == np.int32
    assert data["val_captions"].shape == (5 * NUM_VAL, 17)
    assert np.array_equal(data["train_image_idxs"], np.repeat(np.arange(NUM_TRAIN), 5))
    # PCA keeps min(512, num_train - 1) components when there are few training scenes.
    assert data["train_features"].shape == (NUM_TRAIN, NUM_TRAIN - 1)
    assert data["val_features"].shape == (NUM_VAL, NUM_TRAIN - 1)
    assert data["train_features"].dtype == np.float32
    raw = load_coco_data(built, pca_features=False)["train_features"]
    assert raw.shape == (NUM_TRAIN, RAW_FEATURE_DIM)
    assert data["idx_to_word"][:4] == ["<NULL>", "<START>", "<END>", "<UNK>"]
    assert all(data["word_to_idx"][w] == i for i, w in enumerate(data["idx_to_word"]))
    manifest = json.loads((built / "scenes.json").read_text())
    assert manifest["num_train"] == NUM_TRAIN and manifest["raw_feature_dim"] == 2304


def test_captions_are_short_english_and_in_vocabulary(built):
    data = load_coco_data(built)
    for split in ("train", "val"):
        for row in data[f"{split}_captions"]:
            assert row[0] == 1 and 2 in row  # <START> first, <END> present
            text = decode_words(row, data["idx_to_word"])
            assert 1 <= len(text.split()) <= MAX_WORDS
    # The vocabulary comes from the training captions only, so val may hold <UNK> but train not.
    assert 3 not in data["train_captions"]


def test_pngs_are_the_scenes_and_val_uses_only_test_images(built):
    data = load_coco_data(built)
    for split, low, high in (("train", 36, 60), ("val", 150, 250)):
        for url in data[f"{split}_urls"]:
            assert url.startswith("file://")
            pixels = np.asarray(Image.open(urlparse(url).path))
            assert pixels.shape == (CANVAS, CANVAS)
            lit = pixels[pixels > 0]
            assert low <= lit.min() and lit.max() <= high  # brightness in [0.6, 1] of 60 / 250


def test_same_seed_same_files_and_labels_do_not_touch_features(built, idx_dir, cnn, tmp_path):
    shuffled = tmp_path / "shuffled_idx"
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        write_idx(shuffled / name, read_idx(idx_dir / name))
    for name in ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        labels = read_idx(idx_dir / name)
        write_idx(shuffled / name, np.random.default_rng(1).permutation(labels))
    again = build_scene_captions(
        tmp_path / "a", seed=3, num_train=NUM_TRAIN, num_val=NUM_VAL, fmnist_dir=idx_dir, cnn=cnn
    )
    relabelled = build_scene_captions(
        tmp_path / "b", seed=3, num_train=NUM_TRAIN, num_val=NUM_VAL, fmnist_dir=shuffled, cnn=cnn
    )
    for split in ("train", "val"):
        raw = _h5(built / features_file(split, False))
        assert np.array_equal(raw, _h5(again / features_file(split, False)))
        assert np.array_equal(raw, _h5(relabelled / features_file(split, False)))
    captions = _h5(built / "coco2014_captions.h5", "train_captions")
    assert np.array_equal(captions, _h5(again / "coco2014_captions.h5", "train_captions"))
    assert (built / "coco2014_vocab.json").read_text() == (
        again / "coco2014_vocab.json"
    ).read_text()
    relabelled_text = load_coco_data(relabelled)
    original_text = load_coco_data(built)
    assert [
        decode_words(r, original_text["idx_to_word"]) for r in original_text["train_captions"]
    ] != [
        decode_words(r, relabelled_text["idx_to_word"]) for r in relabelled_text["train_captions"]
    ]


def test_garments_never_overlap_and_stay_on_the_canvas():
    full = np.full((5, 28, 28), 255, dtype=np.uint8)
    scenes = sample_scenes(full, 300, np.random.default_rng(0))
    lit = (scenes.canvases > 0).reshape(300, -1).sum(axis=1)
    assert np.array_equal(lit, [28 * 28 * len(s) for s in scenes.sources])
    assert {len(c) for c in scenes.cells} == {1, 2, 3}
    assert all(tuple(cells) in LAYOUTS[len(cells)] for cells in scenes.cells)


def test_window_features_are_the_cnn_features_of_each_window(cnn):
    rng = np.random.default_rng(0)
    canvases = rng.integers(0, 256, size=(2, CANVAS, CANVAS), dtype=np.uint8)
    canvases[1] = 0
    features = scene_features(cnn, canvases).reshape(2, 9, 256)
    for k, (y, x) in enumerate([(y, x) for y in ANCHORS for x in ANCHORS]):
        window = torch.from_numpy(canvases[:, y : y + 28, x : x + 28]).float().div(255)
        with torch.no_grad():
            expected = cnn.features(window.unsqueeze(1)).numpy()
        np.testing.assert_allclose(features[:, k], expected, rtol=1e-4, atol=1e-4)


class _TopLeftPixel(torch.nn.Module):
    """Names class round(9 x the window's top-left pixel): where a window starts shows."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.one_hot((x[:, 0, 0, 0] * 9).round().long(), 10).float()


def test_read_garments_names_the_window_at_each_garments_cell():
    canvases = np.zeros((2, CANVAS, CANVAS), dtype=np.uint8)
    canvases[0, 36, 0] = 255  # the bottom-left window's first pixel: class 9
    canvases[0, 0, 36] = 85  # the top-right window's: class 3
    canvases[0, 18, 18] = 255  # the centre holds no garment, so it is never read
    canvases[1, 18, 18] = 255 * 5 // 9 + 1  # class 5
    truth = np.array(
        [[(1, 2, 0), (2, 0, 2), (-1, -1, -1)], [(4, 1, 1), (-1, -1, -1), (-1, -1, -1)]]
    )
    read = read_garments(_TopLeftPixel(), canvases, truth)
    expected = truth.copy()
    expected[0, :2, 0] = (9, 3)
    expected[1, 0, 0] = 5
    np.testing.assert_array_equal(read, expected)
    with pytest.raises(InvalidInputError, match="canvases"):
        read_garments(_TopLeftPixel(), canvases[:1], truth)


@pytest.mark.parametrize("count", [1, 2, 3])
def test_every_layout_gets_five_different_short_captions(count):
    rng = np.random.default_rng(count)
    for cells in LAYOUTS[count]:
        labels = rng.integers(0, 10, size=count).tolist()
        if count > 1 and rng.random() < 0.3:
            labels = [labels[0]] * count  # same-class scenes take their own wording
        captions = describe_scene(labels, list(cells), rng)
        assert len(set(captions)) == 5
        assert all(len(c.split()) <= MAX_WORDS for c in captions)


def test_pair_relations_say_where_the_garments_are():
    rng = np.random.default_rng(0)
    texts = " | ".join(" | ".join(describe_scene([8, 3], [(1, 0), (1, 2)], rng)) for _ in range(20))
    assert "bag to the left of a dress" in texts or "bag left of a dress" in texts
    assert "above" not in texts and "below" not in texts
    assert "dress on the right" in texts or "dress on the right side" in texts


def test_truth_matches_the_reference_captions_and_grid_features_are_the_windows(built):
    data = load_coco_data(built)
    for split, count in (("train", NUM_TRAIN), ("val", NUM_VAL)):
        truth = truth_from_array(data[f"{split}_truth"])
        assert len(truth) == count and all(1 <= len(garments) <= 3 for garments in truth)
        references = [decode_words(row, data["idx_to_word"]) for row in data[f"{split}_captions"]]
        scores = score_against_truth(references, [truth[i] for i in data[f"{split}_image_idxs"]])
        assert scores["class_precision"] == 1.0 and scores["position_accuracy"] == 1.0
        grid = data[f"{split}_grid_features"]
        assert grid.shape == (count, 9, min(GRID_PCA_DIM, 9 * NUM_TRAIN - 1))
    # One PCA over the training windows: the val grid is the same projection of val windows.
    # The fixture's last axes have nearly equal variances, so their directions move by ~3e-4
    # with the float32 summation order of the covariance (which BLAS picks); any other
    # projection (another fit, other windows) differs by more than 0.1.
    raw = {s: _h5(built / features_file(s, False)).reshape(-1, 256) for s in ("train", "val")}
    pca = fit_pca(raw["train"], GRID_PCA_DIM)
    np.testing.assert_allclose(
        data["val_grid_features"].reshape(-1, data["val_grid_features"].shape[2]),
        pca.transform(raw["val"]),
        atol=2e-3,
    )
    assert not data["train_novel"].any()


def test_novel_combinations_never_occur_in_train(idx_dir, cnn, tmp_path):
    out = build_scene_captions(
        tmp_path / "novel", seed=1, num_train=60, num_val=40, fmnist_dir=idx_dir, cnn=cnn,
        novel_fraction=0.5,
    )  # fmt: skip
    data = load_coco_data(out)
    train = {combination(t[t[:, 0] >= 0, 0]) for t in data["train_truth"]}
    val = [combination(t[t[:, 0] >= 0, 0]) for t in data["val_truth"]]
    assert data["val_novel"].any() and not data["val_novel"].all()
    for combo, novel in zip(val, data["val_novel"], strict=True):
        assert novel == (combo not in train)
    held_out = held_out_combinations(0.5, np.random.default_rng(0))
    assert len(held_out) == round(0.5 * 275) and all(len(c) in (2, 3) for c in held_out)
    manifest = json.loads((out / "scenes.json").read_text())
    assert manifest["num_novel_val"] == int(data["val_novel"].sum())
    with pytest.raises(InvalidInputError, match="novel_fraction"):
        held_out_combinations(1.0, np.random.default_rng(0))


def test_a_combination_that_cannot_be_avoided_is_refused_not_redrawn_forever():
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    with pytest.raises(InvalidInputError, match="held-out class combinations"):
        sample_scenes(images, 5, np.random.default_rng(0), accept=lambda chosen: len(chosen) < 2)
