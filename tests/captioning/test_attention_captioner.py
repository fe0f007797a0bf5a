"""The attention-lstm entry of the registry on a tiny folder with grid features, and the clear
errors when a folder lacks them or holds broken ones."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch

from vislab.captioning import load_captioner, load_coco_data, train_captioner
from vislab.captioning.sample_gallery import caption_images, write_caption_gallery
from vislab.datasets.grid_data import TRUTH_FILE, grid_features_file, write_grid_data
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError

SMALL = {"batch_size": 25, "hidden_dim": 16, "wordvec_dim": 8, "learning_rate": 1e-2}


def _add_grid(folder, cells=4, dim=6):
    rng = np.random.default_rng(0)
    data = load_coco_data(folder)
    grid = {
        split: rng.standard_normal((len(data[f"{split}_features"]), cells, dim))
        for split in ("train", "val")
    }
    truth = {
        f"{split}_truth": np.tile([[3, 0, 0], [-1, -1, -1]], (len(grid[split]), 1, 1))
        for split in ("train", "val")
    }
    write_grid_data(folder, grid, truth)
    return grid


def test_train_load_and_sample_on_grid_features(tiny_coco_dir, tmp_path):
    grid = _add_grid(tiny_coco_dir)
    result = train_captioner(
        "attention-lstm", tiny_coco_dir, tmp_path / "run", epochs=2, blas_threads=1, **SMALL
    )
    raw = torch.load(result.last_checkpoint, weights_only=True)
    assert raw["model"] == "attention-lstm" and raw["config"]["attention_dim"] == 16
    assert len(result.history["val_loss"]) == 2
    captioner = load_captioner(result.best_checkpoint)
    assert captioner.model_name == "attention-lstm" and captioner.feature_layout == "grid"
    for beam_size in (1, 3):
        captions = captioner.sample(grid["val"][:3], max_length=7, beam_size=beam_size)
        assert captions.shape == (3, 7)
    with pytest.raises(InvalidInputError, match=r"\(N, L, 6\)"):
        captioner.sample(grid["val"][:3, 0])
    data = load_coco_data(tiny_coco_dir)
    assert data["val_truth"].shape == (10, 2, 3) and "val_novel" not in data
    # `caption sample`: each card has the per-word attention strip and the scene's truth.
    items = caption_images(result.best_checkpoint, tiny_coco_dir, num=2, beam_size=2)
    assert all(item.grounding.startswith("data:image/png;base64,") for item in items)
    assert all(item.truth == "dress at the top left" for item in items)
    page = write_caption_gallery(result.best_checkpoint, tiny_coco_dir, tmp_path / "g.html", num=2)
    text = page.read_text()
    assert text.count('class="grounding"') == 2 and "truth: dress at the top left" in text


def test_missing_grid_features_name_the_files_and_the_rebuild(tiny_coco_dir, tmp_path):
    with pytest.raises(DataNotFoundError, match=r"grid_features\.h5.*vislab data build-scenes"):
        train_captioner("attention-lstm", tiny_coco_dir, tmp_path / "run", epochs=1, **SMALL)


def test_broken_grid_files_are_corrupt_file_errors(tiny_coco_dir):
    _add_grid(tiny_coco_dir)
    with h5py.File(tiny_coco_dir / grid_features_file("val"), "w") as handle:
        handle.create_dataset("features", data=np.zeros((3, 4, 6), np.float32))  # 10 images
    with pytest.raises(CorruptFileError, match="num_images=10"):
        load_coco_data(tiny_coco_dir)
    (tiny_coco_dir / grid_features_file("val")).unlink()
    (tiny_coco_dir / grid_features_file("train")).unlink()
    (tiny_coco_dir / TRUTH_FILE).write_bytes(b"not hdf5")
    with pytest.raises(CorruptFileError, match=TRUTH_FILE):
        load_coco_data(tiny_coco_dir)


def test_transformer_grid_trains_on_square_grids_and_samples(tiny_coco_dir, tmp_path):
    grid = _add_grid(tiny_coco_dir, cells=9)
    options = {"batch_size": 25, "wordvec_dim": 16, "num_layers": 1, "max_length": 20}
    result = train_captioner(
        "transformer-grid", tiny_coco_dir, tmp_path / "tf", epochs=1, **options
    )
    captioner = load_captioner(result.best_checkpoint)
    assert captioner.feature_layout == "grid"
    assert captioner.model.config["grid_shape"] == [3, 3]
    for beam_size in (1, 2):
        assert captioner.sample(grid["val"][:3], max_length=7, beam_size=beam_size).shape == (3, 7)
    with pytest.raises(InvalidInputError, match=r"\(N, 9, 6\)"):
        captioner.sample(grid["val"][:3, :4])
    _add_grid(tiny_coco_dir, cells=4 + 1)  # not a square
    with pytest.raises(InvalidInputError, match="not a square grid"):
        train_captioner("transformer-grid", tiny_coco_dir, tmp_path / "tf5", epochs=1, **options)
