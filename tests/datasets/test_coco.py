"""The course's coco_captioning layout: write, read, sample, decode, images from urls."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from vislab.datasets.coco import (
    CAPTIONS_FILE,
    decode_captions,
    load_coco_data,
    sample_coco_minibatch,
    write_coco_data,
)
from vislab.datasets.image_urls import image_from_url
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError


def test_round_trip_has_the_course_keys(tiny_coco_dir):
    data = load_coco_data(tiny_coco_dir)
    assert data["train_captions"].shape == (50, 17)
    assert data["train_image_idxs"].shape == (50,)
    assert data["val_captions"].shape == (20, 17)
    assert data["train_features"].shape == (50, 512)
    assert data["train_features"].dtype == np.float32
    assert data["val_features"].shape == (10, 512)
    assert data["idx_to_word"][:4] == ["<NULL>", "<START>", "<END>", "<UNK>"]
    assert data["word_to_idx"]["<END>"] == 2
    assert data["val_urls"].shape == (10,)
    raw = load_coco_data(tiny_coco_dir, pca_features=False)
    assert raw["train_features"].shape == (50, 1024)


def test_env_var_and_missing_files(tiny_coco_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("VISLAB_COCO_DIR", str(tiny_coco_dir))
    assert load_coco_data(None)["train_captions"].shape == (50, 17)
    monkeypatch.delenv("VISLAB_COCO_DIR")
    with pytest.raises(DataNotFoundError, match="VISLAB_COCO_DIR"):
        load_coco_data(None)
    with pytest.raises(DataNotFoundError, match="get_datasets.sh"):
        load_coco_data(tmp_path / "nowhere")
    (tiny_coco_dir / "val2014_urls.txt").unlink()
    with pytest.raises(DataNotFoundError, match="val2014_urls.txt"):
        load_coco_data(tiny_coco_dir)


def test_accepts_image_idxes_spelling(tiny_coco_dir):
    path = tiny_coco_dir / CAPTIONS_FILE
    with h5py.File(path, "a") as handle:
        for split in ("train", "val"):
            handle[f"{split}_image_idxes"] = np.asarray(handle[f"{split}_image_idxs"])
            del handle[f"{split}_image_idxs"]
    assert load_coco_data(tiny_coco_dir)["val_image_idxs"].shape == (20,)


def test_max_train_subsamples_with_replacement(tiny_coco_dir):
    data = load_coco_data(tiny_coco_dir, max_train=80, rng=np.random.default_rng(0))
    assert data["train_captions"].shape == (80, 17)
    again = load_coco_data(tiny_coco_dir, max_train=80, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(data["train_captions"], again["train_captions"])


def test_minibatch_lines_up(tiny_coco_dir):
    data = load_coco_data(tiny_coco_dir)
    captions, features, urls = sample_coco_minibatch(
        data, batch_size=7, split="val", rng=np.random.default_rng(1)
    )
    assert captions.shape == (7, 17) and features.shape == (7, 512) and urls.shape == (7,)
    for caption, feature, url in zip(captions, features, urls, strict=True):
        row = np.flatnonzero((data["val_captions"] == caption).all(axis=1))[0]
        image = data["val_image_idxs"][row]
        np.testing.assert_array_equal(feature, data["val_features"][image])
        assert url == data["val_urls"][image]


def test_decode_captions():
    idx_to_word = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "dog"]
    assert decode_captions(np.array([1, 4, 0, 5, 2, 4, 0]), idx_to_word) == "<START> a dog <END>"
    assert decode_captions(np.array([[4, 5, 2], [5, 0, 0]]), idx_to_word) == ["a dog <END>", "dog"]


def test_write_rejects_bad_input(tmp_path):
    good = dict(
        train_captions=np.array([[1, 4, 2]]),
        train_image_idxs=np.array([0]),
        val_captions=np.array([[1, 4, 2]]),
        val_image_idxs=np.array([0]),
        train_features=np.zeros((1, 3)),
        val_features=np.zeros((1, 3)),
        idx_to_word=["<NULL>", "<START>", "<END>", "<UNK>", "a"],
        train_urls=["x"],
        val_urls=["y"],
    )
    write_coco_data(tmp_path / "ok", **good)
    with pytest.raises(InvalidInputError, match="train_image_idxs point outside train_features"):
        write_coco_data(tmp_path / "bad", **{**good, "train_image_idxs": np.array([3])})
    with pytest.raises(InvalidInputError, match="idx_to_word must start with"):
        write_coco_data(tmp_path / "bad", **{**good, "idx_to_word": ["a", "b", "c", "d", "e"]})


def test_image_from_url_paths_and_failures(tiny_coco_dir, caplog):
    url = load_coco_data(tiny_coco_dir)["train_urls"][0]
    image = image_from_url(url)
    assert image.shape == (16, 16, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image_from_url(f"file://{url}"), image)
    assert image_from_url(str(tiny_coco_dir / "missing.png")) is None
    assert "could not read image" in caplog.text


def test_inconsistent_files_are_reported(tiny_coco_dir):
    urls = (tiny_coco_dir / "train2014_urls.txt").read_text().splitlines()
    (tiny_coco_dir / "train2014_urls.txt").write_text("\n".join(urls[:-1]) + "\n")
    with pytest.raises(CorruptFileError, match="train2014_urls.txt lists 49 urls"):
        load_coco_data(tiny_coco_dir)
