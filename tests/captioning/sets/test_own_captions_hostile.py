"""Hostile annotation files and interrupted builds of `build-captions`: file names cannot leave
the images folder, ids of the wrong type are one sentence, a build appears only when complete."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from vislab.captioning.sets import caption_sets
from vislab.captioning.sets.own_captions import MANIFEST, build_own_captions, read_annotations
from vislab.datasets.coco import load_coco_data
from vislab.errors import InvalidInputError


class MeanColour:
    """A stand-in backbone: features are an image's mean colour and its spread (N, 4)."""

    name = "mean-colour"

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        pixels = np.asarray(image.resize((4, 4)), dtype=np.float32) / 255.0
        return torch.from_numpy(pixels).permute(2, 0, 1)[None]  # (1, 3, 4, 4)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean(dim=(2, 3)), x.std(dim=(1, 2, 3))[:, None]], dim=1)


def _annotations(tmp_path, images, annotations=None):
    path = tmp_path / "captions.json"
    if annotations is None:
        annotations = [{"image_id": image["id"], "caption": "a photo"} for image in images]
    path.write_text(json.dumps({"images": images, "annotations": annotations}))
    return path


def _photos(tmp_path, count=4):
    folder = tmp_path / "photos"
    folder.mkdir(exist_ok=True)
    for index in range(count):
        Image.new("RGB", (12, 10), (60 * index, 0, 200 - 40 * index)).save(folder / f"{index}.png")
    images = [{"id": i, "file_name": f"{i}.png"} for i in range(count)]
    return folder, images


@pytest.mark.parametrize(
    "file_name", ["/etc/passwd", "../secret.png", "a/../../b.png", "C:\\x.png"]
)
def test_file_names_cannot_leave_the_images_folder(tmp_path, file_name):
    path = _annotations(tmp_path, [{"id": 1, "file_name": file_name}, {"id": 2, "file_name": "b"}])
    with pytest.raises(InvalidInputError, match=r"images\[0\] has file_name .* inside the images"):
        read_annotations(path)


def test_a_link_out_of_the_images_folder_is_refused(tmp_path):
    folder, images = _photos(tmp_path)
    outside = tmp_path / "outside.png"
    Image.new("RGB", (12, 10)).save(outside)
    (folder / "link.png").symlink_to(outside)
    images[0]["file_name"] = "link.png"
    path = _annotations(tmp_path, images)
    with pytest.raises(InvalidInputError, match="'link.png' leads outside the images folder"):
        build_own_captions(folder, path, tmp_path / "out", backbone=MeanColour())


@pytest.mark.parametrize("bad_id", [[1], {"a": 1}, 1.5, True, None, ""])
def test_ids_of_the_wrong_type_are_one_sentence(tmp_path, bad_id):
    images = [{"id": bad_id, "file_name": "a.png"}, {"id": 2, "file_name": "b.png"}]
    with pytest.raises(InvalidInputError, match=r"images\[0\] has 'id' .* whole numbers or"):
        read_annotations(_annotations(tmp_path, images, []))
    images[0]["id"] = 1
    annotations = [{"image_id": bad_id, "caption": "x"}]
    with pytest.raises(InvalidInputError, match=r"annotations\[0\] has 'image_id'"):
        read_annotations(_annotations(tmp_path, images, annotations))


def test_an_interrupted_build_leaves_the_previous_one(tmp_path, monkeypatch):
    folder, images = _photos(tmp_path)
    path = _annotations(tmp_path, images)
    out = tmp_path / "out"
    build_own_captions(folder, path, out, backbone=MeanColour(), val_fraction=0.25)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def killed(*args, **kwargs):
        (args[0] / "coco2014_captions.h5").write_bytes(b"half")  # some files, then the kill
        raise KeyboardInterrupt

    monkeypatch.setattr(caption_sets, "write_coco_data", killed)
    with pytest.raises(KeyboardInterrupt):
        build_own_captions(folder, path, out, backbone=MeanColour(), val_fraction=0.5)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert load_coco_data(out)["train_features"].shape[0] == 3
    fresh = tmp_path / "fresh"
    with pytest.raises(KeyboardInterrupt):
        build_own_captions(folder, path, fresh, backbone=MeanColour())
    assert not fresh.exists()


def test_a_folder_that_is_not_a_build_is_never_replaced(tmp_path):
    folder, images = _photos(tmp_path)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(InvalidInputError, match="is not empty and holds no finished build"):
        build_own_captions(folder, _annotations(tmp_path, images), out, backbone=MeanColour())
    assert (out / "thesis.tex").read_text() == "years of work"
    assert not (out / MANIFEST).exists()
