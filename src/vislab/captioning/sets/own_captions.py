"""A caption set from your own photos: COCO-style JSON in, the course's layout out.

The annotation file is the COCO captions format:

    {"images": [{"id": 1, "file_name": "beach.jpg", "split": "val"}, ...],
     "annotations": [{"image_id": 1, "caption": "A dog runs on the beach."}, ...]}

`split` ("train" / "val") is optional; without it a seeded random `val_fraction` of the images
is held out. Features are EfficientNet-Lite0's pooled penultimate activations (1280 values,
ImageNet-pretrained, shipped in a package), written raw and PCA-reduced to 512 dimensions, or
to fewer when there are fewer training images than that (PCA cannot find more axes than
images); the manifest `photos.json` records how many. Grid features (see
`vislab.datasets.grid_data`) are the 7 x 7 cells of EfficientNet-Lite0's last feature map,
PCA-reduced to GRID_PCA_DIM, for the captioners that attend over regions.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from vislab.atomic_files import atomic_folder, atomic_write_text, check_build_target
from vislab.backbones import load_backbone
from vislab.captioning.sets.caption_sets import (
    PCA_DIM,
    SplitContent,
    reduce_grid,
    write_caption_set,
)
from vislab.datasets.grid_data import write_grid_data
from vislab.datasets.sample_photos import load_image
from vislab.datasets.vocabulary import tokenize
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError

logger = logging.getLogger(__name__)

CAPTION_LENGTH = 17  # the course's T + 1: <START>, at most 15 words, <END>
MANIFEST = "photos.json"
GRID_PCA_DIM = 128  # per-cell dimensions of the grid features (PCA of the 1280 channels)
MAX_ANNOTATION_BYTES = 512 * 2**20  # COCO's train captions JSON is 80 MB


def read_annotations(path: str | os.PathLike) -> dict[int, dict]:
    """Read and check a COCO-style captions file -> image id -> {file_name, split, captions}."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"annotation file {path} does not exist")
    if path.stat().st_size > MAX_ANNOTATION_BYTES:
        raise CorruptFileError(f"{path} is over {MAX_ANNOTATION_BYTES} bytes")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise CorruptFileError(f"{path} is not valid JSON: {error!r}") from error
    if not isinstance(document, dict):
        raise CorruptFileError(f"{path}: expected an object with 'images' and 'annotations'")
    for key in ("images", "annotations"):
        if not isinstance(document.get(key), list):
            raise CorruptFileError(f"{path}: '{key}' must be a list")
    images: dict[int, dict] = {}
    for index, entry in enumerate(document["images"]):
        where = f"{path}: images[{index}]"
        image_id, file_name = _image_id(entry, "id", where), _file_name(entry, where)
        split = entry.get("split")
        if split not in (None, "train", "val"):
            raise InvalidInputError(f"{where} has split {split!r}; use 'train' or 'val'")
        if image_id in images:
            raise InvalidInputError(f"{where} repeats image id {image_id!r}")
        images[image_id] = {"file_name": file_name, "split": split, "captions": []}
    for index, entry in enumerate(document["annotations"]):
        where = f"{path}: annotations[{index}]"
        image_id, caption = _image_id(entry, "image_id", where), _field(entry, "caption", where)
        if image_id not in images:
            raise InvalidInputError(f"{where} refers to image id {image_id!r}, not in 'images'")
        if not isinstance(caption, str) or not tokenize(caption):
            raise InvalidInputError(f"{where} has an empty or non-text caption")
        images[image_id]["captions"].append(caption)
    for image_id, image in images.items():
        if not image["captions"]:
            raise InvalidInputError(
                f"{path}: image {image_id!r} ({image['file_name']}) has no caption"
            )
    if len(images) < 2:
        raise InvalidInputError(f"{path}: need at least 2 captioned images, found {len(images)}")
    return images


def _field(entry, name: str, where: str):
    if not isinstance(entry, dict) or name not in entry:
        raise InvalidInputError(f"{where} has no '{name}'")
    return entry[name]


def _image_id(entry, name: str, where: str) -> int | str:
    """An image id: a whole number (as COCO's) or a non-empty string."""
    value = _field(entry, name, where)
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise InvalidInputError(
            f"{where} has '{name}' {json.dumps(value)[:40]}; ids are whole numbers or strings"
        )
    return value


def _file_name(entry, where: str) -> str:
    """A file name inside the images folder: relative, with no `..` (checked again against
    the folder itself, symbolic links resolved, by `image_path`)."""
    value = _field(entry, "file_name", where)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{where} has a 'file_name' that is not a file name")
    name = PurePosixPath(value.replace("\\", "/"))
    if name.is_absolute() or PureWindowsPath(value).drive or ".." in name.parts or "\0" in value:
        raise InvalidInputError(
            f"{where} has file_name {value!r}; it must be a path inside the images folder"
        )
    return value


def image_path(images_dir: Path, file_name: str) -> Path:
    """images_dir / file_name, refused when it resolves outside images_dir (a link out)."""
    folder = images_dir.resolve()
    path = (folder / file_name).resolve()
    if not path.is_relative_to(folder):
        raise InvalidInputError(f"file_name {file_name!r} leads outside the images folder {folder}")
    return path


def split_images(images: dict[int, dict], val_fraction: float, seed: int) -> dict[str, list[int]]:
    """Image ids per split: the 'split' fields when any image has one, else a seeded draw."""
    ids = sorted(images, key=str)
    if any(image["split"] for image in images.values()):
        splits = {
            s: [i for i in ids if (images[i]["split"] or "train") == s] for s in ("train", "val")
        }
    else:
        if not 0.0 < val_fraction < 1.0:
            raise InvalidInputError(f"val_fraction must be in (0, 1), got {val_fraction}")
        num_val = min(max(1, round(val_fraction * len(ids))), len(ids) - 1)
        chosen = set(np.random.default_rng(seed).choice(len(ids), num_val, replace=False).tolist())
        splits = {
            "train": [i for k, i in enumerate(ids) if k not in chosen],
            "val": [i for k, i in enumerate(ids) if k in chosen],
        }
    for split, members in splits.items():
        if len(members) < (2 if split == "train" else 1):
            raise InvalidInputError(
                f"the annotations leave the {split} split {len(members)} images, at least "
                f"{2 if split == 'train' else 1} needed: give more images or another --val-fraction"
            )
    return splits


@torch.inference_mode()
def photo_features(
    backbone, paths: list[Path], batch_size: int = 16, progress: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Pooled features (N, F) of image files, each preprocessed by the backbone, and the cells
    of its last feature map (N, h * w, F) in reading order (7 x 7 for EfficientNet-Lite0 at
    224 pixels) when the network exposes that map (`extract_features`), else None."""
    pooled, cells = [], []
    maps_of = getattr(getattr(backbone, "model", None), "extract_features", None)
    for start in tqdm(
        range(0, len(paths), batch_size), desc="image features", disable=not progress, unit="batch"
    ):
        batch = torch.cat(
            [backbone.preprocess(_open_image(p)) for p in paths[start : start + batch_size]]
        )
        pooled.append(backbone.features(batch).float().cpu().numpy())
        if maps_of is not None:
            maps = maps_of(batch).float()  # (B, F, h, w)
            cells.append(maps.flatten(2).transpose(1, 2).cpu().numpy())  # (B, h * w, F)
    grid = np.concatenate(cells).astype(np.float32) if cells else None
    return np.concatenate(pooled).astype(np.float32), grid


def _open_image(path: Path) -> Image.Image:
    if not path.is_file():
        raise DataNotFoundError(f"image file {path} (named in the annotations) does not exist")
    return load_image(path)


def build_own_captions(
    images_dir: str | os.PathLike,
    annotations: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    val_fraction: float = 0.2,
    min_count: int = 2,
    seed: int = 0,
    backbone=None,
    device: str = "cpu",
    progress: bool = False,
) -> Path:
    """Build a `coco_captioning` folder from photos in images_dir and a captions JSON.

    Captions are lower-cased and tokenised; words seen fewer than min_count times in the
    training captions become `<UNK>`; captions over 15 words are cut. `backbone` defaults to
    EfficientNet-Lite0 (`vislab.backbones.load_backbone`).
    """
    check_build_target(out_dir, MANIFEST)
    images = read_annotations(annotations)
    splits = split_images(images, val_fraction, seed)
    folder = Path(images_dir)
    paths = {i: image_path(folder, images[i]["file_name"]) for i in images}
    for path in paths.values():
        _open_image(path)  # every file checked before the slow part starts
    if backbone is None:
        backbone = load_backbone("efficientnet_lite0", device=device)
    contents, grids = {}, {}
    for split, ids in splits.items():
        words = [[tokenize(c) for c in images[i]["captions"]] for i in ids]
        raw, grids[split] = photo_features(backbone, [paths[i] for i in ids], progress=progress)
        contents[split] = SplitContent(words, raw, [paths[i].as_uri() for i in ids])
    _warn_about_sizes(contents, len(splits["train"]))
    with atomic_folder(out_dir, MANIFEST) as building:  # in place only once complete
        components, vocab_size = write_caption_set(
            building, contents["train"], contents["val"], caption_length=CAPTION_LENGTH,
            min_count=min_count,
        )  # fmt: skip
        if grids["train"] is not None:
            write_grid_data(building, reduce_grid(grids["train"], grids["val"], GRID_PCA_DIM))
        _write_manifest(building, annotations, splits, backbone, contents, components, vocab_size)
    return Path(out_dir)


def _write_manifest(folder, annotations, splits, backbone, contents, components, vocab_size):
    manifest = {
        "kind": "own photos",
        "annotations": str(Path(annotations).resolve()),
        "image_ids": {s: [str(i) for i in ids] for s, ids in splits.items()},
        "backbone": getattr(backbone, "name", "efficientnet_lite0"),
        "raw_feature_dim": int(contents["train"].raw_features.shape[1]),
        "pca_components": components,
        "vocab_size": vocab_size,
    }
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2))


def _warn_about_sizes(contents: dict[str, SplitContent], num_train: int) -> None:
    if num_train - 1 < PCA_DIM:
        logger.warning(
            "PCA keeps %d components, not %d: there are only %d training images",
            min(num_train - 1, contents["train"].raw_features.shape[1]),
            PCA_DIM,
            num_train,
        )
    too_long = sum(
        len(caption) > CAPTION_LENGTH - 2
        for content in contents.values()
        for captions in content.captions
        for caption in captions
    )
    if too_long:
        logger.warning("%d captions are longer than %d words; cut", too_long, CAPTION_LENGTH - 2)
