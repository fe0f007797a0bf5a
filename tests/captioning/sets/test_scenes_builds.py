"""Scene builds appear only when complete, and a build from other CNN weights is stale."""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest
import torch

from vislab.backbones import load_fmnist_cnn
from vislab.captioning.sets import scenes
from vislab.captioning.sets.scenes import build_scene_captions, is_built
from vislab.datasets.coco import load_coco_data


@pytest.fixture(scope="module")
def cnn():
    return load_fmnist_cnn()


def _build(out, idx, cnn, seed=0):
    return build_scene_captions(out, seed=seed, num_train=6, num_val=2, fmnist_dir=idx, cnn=cnn)


def test_urls_point_into_the_finished_folder(tiny_idx_dir, cnn, tmp_path):
    out = _build(tmp_path / "work" / "scenes", tiny_idx_dir, cnn)
    urls = load_coco_data(out)["val_urls"]
    paths = [urlparse(str(url)).path for url in urls]
    assert all(path.startswith(str(out.resolve() / "images" / "val")) for path in paths)
    assert all(os.path.isfile(path) for path in paths)
    assert [p.name for p in out.parent.iterdir()] == ["scenes"]  # no building folder left


def test_an_interrupted_rebuild_keeps_the_finished_one(tiny_idx_dir, cnn, tmp_path, monkeypatch):
    out = _build(tmp_path / "work" / "scenes", tiny_idx_dir, cnn)
    before = load_coco_data(out)["train_features"].copy()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # after the PNGs and features, before the grid data

    monkeypatch.setattr(scenes, "write_grid_data", killed)
    with pytest.raises(KeyboardInterrupt):
        _build(out, tiny_idx_dir, cnn, seed=5)
    with pytest.raises(KeyboardInterrupt):
        _build(tmp_path / "work" / "new", tiny_idx_dir, cnn)
    assert (load_coco_data(out)["train_features"] == before).all() and is_built(out, cnn)
    assert sorted(p.name for p in out.parent.iterdir()) == ["scenes"]


def test_a_build_from_other_weights_is_stale(tiny_idx_dir, cnn, tmp_path):
    out = _build(tmp_path / "scenes", tiny_idx_dir, cnn)
    assert is_built(out) and is_built(out, cnn)
    retrained = load_fmnist_cnn()
    with torch.no_grad():
        retrained.classifier.bias.add_(0.01)
    assert not is_built(out, retrained)
    (out / scenes.MANIFEST).write_text("[not, json")
    assert not is_built(out, cnn)
