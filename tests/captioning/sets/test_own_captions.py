"""Caption sets from your own photos: layout, tokenising, splits, and errors naming the entry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vislab.captioning.sets.own_captions import build_own_captions, read_annotations, split_images
from vislab.datasets.coco import load_coco_data
from vislab.datasets.vocabulary import decode_words
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError


class MeanColourBackbone:
    """Stand-in for EfficientNet-Lite0: features are the image's mean colour and 5 more stats."""

    name = "mean-colour"

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        pixels = np.asarray(image.resize((8, 8)), dtype=np.float32) / 255.0
        return torch.from_numpy(pixels).permute(2, 0, 1)[None]  # (1, 3, 8, 8)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = x.mean(dim=(2, 3)), x.std(dim=(2, 3))
        return torch.cat([mean, std[:, :2], x.amax(dim=(1, 2, 3))[:, None]], dim=1)  # (N, 6)


CAPTIONS = {
    0: ["A red square.", "A RED block!"],
    1: ["A green square", "a green block"],
    2: [
        "A blue square",
        "a blue block, very blue and much longer than fifteen words in total here ok",
    ],
    3: ["A red square again", "red block"],
    4: ["a green thing", "green"],
}


def write_photos(folder: Path, splits: dict[int, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    colours = [(200, 0, 0), (0, 200, 0), (0, 0, 200), (210, 10, 10), (10, 190, 10)]
    for index, colour in enumerate(colours):
        Image.new("RGB", (20 + 4 * index, 16), colour).save(folder / f"photo{index}.png")
    images = [{"id": i, "file_name": f"photo{i}.png"} for i in CAPTIONS]
    for image in images:
        if splits and image["id"] in splits:
            image["split"] = splits[image["id"]]
    annotations = [{"image_id": i, "caption": c} for i, caps in CAPTIONS.items() for c in caps]
    path = folder / "captions.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations}))
    return path


def test_build_writes_the_course_layout(tmp_path):
    annotations = write_photos(tmp_path / "photos", splits={1: "val"})
    out = build_own_captions(
        tmp_path / "photos",
        annotations,
        tmp_path / "out",
        min_count=2,
        backbone=MeanColourBackbone(),
    )
    data = load_coco_data(out)
    assert data["train_features"].shape == (4, 3)  # PCA: 4 training images span 3 axes
    assert data["val_features"].shape == (1, 3)
    assert load_coco_data(out, pca_features=False)["train_features"].shape == (4, 6)
    assert data["train_captions"].shape == (8, 17) and data["val_captions"].shape == (2, 17)
    train_text = [decode_words(row, data["idx_to_word"]) for row in data["train_captions"]]
    assert train_text[:2] == ["a red square", "a red block"]  # lower-cased, punctuation gone
    assert len(train_text[3].split()) == 15  # cut to fit T + 1 = 17
    assert "<UNK>" in train_text[3]  # "very" is seen once: rarer than min_count
    val_text = [decode_words(row, data["idx_to_word"]) for row in data["val_captions"]]
    assert val_text == ["a green square", "a green block"]
    # Training words seen at least min_count = 2 times ("green" twice, in photo 4), most
    # frequent first; "very" and "again", seen once, are not words of the vocabulary.
    assert data["idx_to_word"] == [
        "<NULL>", "<START>", "<END>", "<UNK>", "a", "red", "block", "blue", "square", "green"
    ]  # fmt: skip
    assert data["val_urls"][0].startswith("file://") and data["val_urls"][0].endswith("photo1.png")
    manifest = json.loads((out / "photos.json").read_text())
    assert manifest["pca_components"] == 3 and manifest["image_ids"]["val"] == ["1"]


def test_val_fraction_split_is_seeded(tmp_path):
    annotations = write_photos(tmp_path / "photos")
    images = read_annotations(annotations)
    first = split_images(images, 0.4, seed=1)
    assert len(first["val"]) == 2 and len(first["train"]) == 3
    assert split_images(images, 0.4, seed=1) == first
    with pytest.raises(InvalidInputError, match="val_fraction"):
        split_images(images, 1.5, seed=1)


def _write(tmp_path: Path, document) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("document", "error", "message"),
    [
        ("{not json", CorruptFileError, "not valid JSON"),
        ({"images": []}, CorruptFileError, "'annotations' must be a list"),
        (
            {"images": [{"file_name": "a.png"}], "annotations": []},
            InvalidInputError,
            r"images\[0\] has no 'id'",
        ),
        (
            {
                "images": [{"id": 1, "file_name": "a.png"}],
                "annotations": [{"image_id": 2, "caption": "x"}],
            },
            InvalidInputError,
            r"annotations\[0\] refers to image id 2",
        ),
        (
            {"images": [{"id": 1, "file_name": "a.png"}], "annotations": [{"image_id": 1}]},
            InvalidInputError,
            r"annotations\[0\] has no 'caption'",
        ),
        (
            {"images": [{"id": 1, "file_name": "a.png", "split": "test"}], "annotations": []},
            InvalidInputError,
            "split 'test'",
        ),
        (
            {
                "images": [{"id": 1, "file_name": "a.png"}, {"id": 2, "file_name": "b.png"}],
                "annotations": [{"image_id": 1, "caption": "a cat"}],
            },
            InvalidInputError,
            r"image 2 \(b.png\) has no caption",
        ),
    ],
)
def test_malformed_annotations_name_the_entry(tmp_path, document, error, message):
    with pytest.raises(error, match=message):
        read_annotations(_write(tmp_path, document))


def test_missing_and_unreadable_images_name_the_file(tmp_path):
    annotations = write_photos(tmp_path / "photos")
    (tmp_path / "photos" / "photo3.png").unlink()
    with pytest.raises(DataNotFoundError, match="photo3.png"):
        build_own_captions(
            tmp_path / "photos", annotations, tmp_path / "out", backbone=MeanColourBackbone()
        )
    (tmp_path / "photos" / "photo3.png").write_bytes(b"not a png")
    with pytest.raises(CorruptFileError, match="photo3.png"):
        build_own_captions(
            tmp_path / "photos", annotations, tmp_path / "out", backbone=MeanColourBackbone()
        )
    with pytest.raises(DataNotFoundError, match="nope.json"):
        read_annotations(tmp_path / "nope.json")


class _PooledMap(torch.nn.Module):
    """A 'network' whose last feature map is the image average-pooled to 2 x 2 (3 channels)."""

    def extract_features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.adaptive_avg_pool2d(x, 2)  # (N, 3, 2, 2)


class MapBackbone(MeanColourBackbone):
    model = _PooledMap()


def test_grid_features_are_the_last_feature_map_cells_in_reading_order(tmp_path):
    annotations = write_photos(tmp_path / "photos", splits={1: "val"})
    out = build_own_captions(
        tmp_path / "photos", annotations, tmp_path / "out", backbone=MapBackbone()
    )
    data = load_coco_data(out)
    assert data["train_grid_features"].shape == (4, 4, 3)  # 2 x 2 cells, PCA of 3 channels
    assert data["val_grid_features"].shape == (1, 4, 3)
    # Plain-colour photos: every cell of a photo is the same colour, so the same vector.
    np.testing.assert_allclose(
        data["train_grid_features"], data["train_grid_features"][:, :1].repeat(4, 1), atol=1e-4
    )
    plain = build_own_captions(
        tmp_path / "photos", annotations, tmp_path / "plain", backbone=MeanColourBackbone()
    )
    assert "train_grid_features" not in load_coco_data(plain)
