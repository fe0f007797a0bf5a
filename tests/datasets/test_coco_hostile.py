"""Crafted caption sets: every header is checked before any dataset is read; ids, special
tokens and the vocabulary are checked against each other; each failure names the file."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from vislab.datasets.coco import (
    CAPTIONS_FILE,
    VOCAB_FILE,
    features_file,
    load_coco_data,
    require_training_data,
)
from vislab.datasets.coco import write_coco_data as write
from vislab.datasets.grid_data import write_grid_data
from vislab.datasets.hdf5_reading import Hdf5File
from vislab.errors import CorruptFileError, InvalidInputError

WORDS = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "cat"]


@pytest.fixture
def folder(tmp_path):
    captions = np.array([[1, 4, 5, 2, 0], [1, 5, 2, 0, 0], [1, 4, 2, 0, 0]])
    features = np.arange(3 * 4, dtype=np.float32).reshape(3, 4)
    return write(
        tmp_path / "coco",
        train_captions=captions,
        train_image_idxs=np.array([0, 1, 2]),
        val_captions=captions[:2],
        val_image_idxs=np.array([0, 1]),
        train_features=features,
        val_features=features[:2],
        idx_to_word=WORDS,
        train_urls=["a.png", "b.png", "c.png"],
        val_urls=["a.png", "b.png"],
    )


def _rewrite_captions(folder, **changes):
    path = folder / CAPTIONS_FILE
    with h5py.File(path, "a") as h5:
        for name, value in changes.items():
            del h5[name]
            if callable(value):
                value(h5, name)
            else:
                h5[name] = value


def test_the_fixture_loads(folder):
    assert load_coco_data(folder)["train_captions"].shape == (3, 5)


def test_caption_ids_outside_the_vocabulary(folder):
    _rewrite_captions(folder, val_captions=np.array([[1, 4, 6, 2, 0], [1, 5, 2, 0, 0]]))
    with pytest.raises(CorruptFileError, match="val_captions hold word ids outside the 6-word"):
        load_coco_data(folder)


def test_rows_of_captions_and_image_rows_disagree(folder):
    _rewrite_captions(folder, train_image_idxs=np.array([0, 1]))
    with pytest.raises(CorruptFileError, match="train_captions has 3 rows but train_image_idxs 2"):
        load_coco_data(folder)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.array([["a", "b"]] * 3, dtype="S1"), "must hold integer values, holds |S1"),
        (np.zeros((3, 5), np.float32), "must hold integer values, holds float32"),
        (np.zeros(3, np.int32), r"must have 2 dimensions, has shape \(3,\)"),
        (np.zeros((3, 5000), np.int32), "rows of 5000 word ids"),
    ],
)
def test_wrong_dtype_or_shape_of_captions(folder, value, message):
    _rewrite_captions(folder, train_captions=value)
    with pytest.raises(CorruptFileError, match=message):
        load_coco_data(folder)


def test_links_and_foreign_storage_are_refused_before_reading(folder, tmp_path):
    _rewrite_captions(folder, val_captions=lambda h5, n: h5.__setitem__(n, h5py.SoftLink("/x")))
    with pytest.raises(CorruptFileError, match="`val_captions` is a SoftLink"):
        load_coco_data(folder)
    _rewrite_captions(
        folder,
        val_captions=lambda h5, n: h5.__setitem__(n, h5py.ExternalLink("/etc/passwd", "/x")),
    )
    with pytest.raises(CorruptFileError, match="`val_captions` is a ExternalLink"):
        load_coco_data(folder)
    # Data stored in another file (here /dev/zero) is refused unread.
    _rewrite_captions(
        folder,
        val_captions=lambda h5, n: h5.create_dataset(
            n, shape=(2, 5), dtype="i4", external=[("/dev/zero", 0, h5py.h5f.UNLIMITED)]
        ),
    )
    with pytest.raises(CorruptFileError, match="`val_captions` keeps its data in other files"):
        load_coco_data(folder)


def test_a_declared_size_the_file_cannot_hold_is_refused_unread(folder):
    # 2 GB of features declared, none stored (reading would allocate 2 GB of fill values).
    path = folder / features_file("train", True)
    with h5py.File(path, "w") as h5:
        h5.create_dataset("features", shape=(3, 2**27), dtype="f4", chunks=(1, 2**16))
    with pytest.raises(CorruptFileError, match="declares 1610612736 bytes but stores only 0"):
        with Hdf5File(path) as h5:
            h5.dataset("features", 2, "f")
    with pytest.raises(CorruptFileError, match="hold over 65536 per row|declares"):
        load_coco_data(folder)


def test_too_large_declared_shape_is_refused(folder):
    path = folder / features_file("val", True)
    with h5py.File(path, "w") as h5:
        h5.create_dataset("features", shape=(2**20, 2**11), dtype="f8", chunks=(16, 16))
    with pytest.raises(CorruptFileError, match=r"declares \(1048576, 2048\) .* over 4294967296"):
        load_coco_data(folder)


def test_features_rows_must_match_the_url_list(folder):
    with h5py.File(folder / features_file("val", True), "w") as h5:
        h5["features"] = np.zeros((5, 4), np.float32)
    with pytest.raises(CorruptFileError, match="val2014_urls.txt lists 2 urls but .* 5 feature"):
        load_coco_data(folder)


def test_train_and_val_features_must_have_one_size(folder):
    with h5py.File(folder / features_file("val", True), "w") as h5:
        h5["features"] = np.zeros((2, 7), np.float32)
    with pytest.raises(CorruptFileError, match=r"differ in size \(\(4,\) and \(7,\)"):
        load_coco_data(folder)


def test_train_and_val_grids_must_have_one_shape(folder):
    write_grid_data(folder, {"train": np.zeros((3, 9, 2)), "val": np.zeros((2, 4, 2))})
    with pytest.raises(CorruptFileError, match="grid features differ in shape"):
        load_coco_data(folder)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"val_captions": np.zeros((0, 5), np.int64), "val_image_idxs": np.zeros(0, np.int64)},
         InvalidInputError, "the val split holds no captions"),
        ({"train_captions": np.zeros((3, 5), np.int64)}, CorruptFileError, "must begin with"),
    ],
)  # fmt: skip
def test_training_needs_captions_that_start_right(folder, change, error, message):
    _rewrite_captions(folder, **change)
    with pytest.raises(error, match=message):
        require_training_data(load_coco_data(folder), folder)


def test_training_needs_finite_features(folder):
    with h5py.File(folder / features_file("train", True), "w") as h5:
        h5["features"] = np.full((3, 4), np.nan, np.float32)
    with pytest.raises(CorruptFileError, match="train_features hold NaN"):
        require_training_data(load_coco_data(folder), folder)
    data = load_coco_data(folder)
    require_training_data({**data, "train_features": np.zeros((3, 4), np.float32)}, folder)


@pytest.mark.parametrize(
    ("vocab", "message"),
    [
        ({"idx_to_word": WORDS[3:], "word_to_idx": {}}, "must start with <NULL>, <START>"),
        ({"idx_to_word": WORDS, "word_to_idx": {"a": 4}}, "word_to_idx must map each word"),
        ({"idx_to_word": [*WORDS[:4], 7], "word_to_idx": {}}, "idx_to_word must be a list"),
        ({"idx_to_word": WORDS}, "not a valid vocabulary file: KeyError"),
        ([1, 2], "not a valid vocabulary file: TypeError"),
    ],
)
def test_bad_vocabularies(folder, vocab, message):
    (folder / VOCAB_FILE).write_text(json.dumps(vocab))
    with pytest.raises(CorruptFileError, match=message):
        load_coco_data(folder)


def test_deeply_nested_json_is_one_sentence(folder):
    (folder / VOCAB_FILE).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CorruptFileError, match="coco2014_vocab.json is not a valid vocabulary"):
        load_coco_data(folder)


def test_not_hdf5_at_all(folder):
    (folder / CAPTIONS_FILE).write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    with pytest.raises(CorruptFileError, match="coco2014_captions.h5 is not a readable captions"):
        load_coco_data(folder)


def test_scene_truth_headers_are_checked_before_reading(folder):
    from vislab.datasets.grid_data import TRUTH_FILE, write_grid_data

    truth = {"train_truth": np.zeros((3, 2, 3)), "val_truth": np.zeros((2, 2, 3))}
    write_grid_data(folder, truth=truth)
    assert load_coco_data(folder)["val_truth"].shape == (2, 2, 3)
    write_grid_data(folder, truth={**truth, "val_truth": np.zeros((5, 2, 3))})
    with pytest.raises(
        CorruptFileError, match=r"val_truth must be \(num_images=2, .* is \(5, 2, 3\)"
    ):
        load_coco_data(folder)
    with h5py.File(folder / TRUTH_FILE, "w") as h5:
        h5.create_group("train_truth")
    with pytest.raises(CorruptFileError, match="`train_truth` is a group, not a dataset"):
        load_coco_data(folder)


@pytest.mark.parametrize("row", [(99, 0, 0), (3, 0, 3), (-5, -1, -1), (-1, 0, 0)])
def test_scene_truth_values_are_garments_or_padding(folder, row):
    truth = np.full((2, 2, 3), -1)
    truth[:, 0] = (3, 1, 2)
    write_grid_data(folder, truth={"train_truth": np.zeros((3, 2, 3)), "val_truth": truth})
    assert load_coco_data(folder)["val_truth"][0, 0].tolist() == [3, 1, 2]
    truth[1, 1] = row
    write_grid_data(folder, truth={"train_truth": np.zeros((3, 2, 3)), "val_truth": truth})
    with pytest.raises(CorruptFileError, match=r"val_truth\[1, 1\] is .* neither a garment"):
        load_coco_data(folder)
