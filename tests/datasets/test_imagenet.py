"""ImageNet class names (index-aligned) and the course's validation npz, loaded safely."""

from __future__ import annotations

import os

import numpy as np
import pytest

from vislab.datasets.imagenet import (
    class_index,
    imagenet_class_names,
    load_imagenet_val,
    short_name,
)
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError


def test_class_names_are_in_the_standard_order():
    names = imagenet_class_names()
    assert len(names) == 1000
    assert names[0].startswith("tench") and names[6] == "stingray"
    assert names[76] == "tarantula" and names[78] == "tick"
    assert names[187] == "Yorkshire terrier" and short_name(names[366]) == "gorilla"
    assert short_name(names[281]) == "tabby" and names[967] == "espresso"


def test_class_index_accepts_indices_synonyms_and_clean_names():
    names = imagenet_class_names()
    assert (
        class_index(76, names) == class_index("76", names) == class_index("Tarantula", names) == 76
    )
    assert class_index("tabby cat", names) == 281  # a synonym of "tabby, tabby cat"
    assert class_index("great_white_shark", names) == 2
    with pytest.raises(InvalidInputError, match="did you mean"):
        class_index("shark", names)
    with pytest.raises(InvalidInputError, match="outside"):
        class_index(1000, names)


def test_load_imagenet_val(shared_reference):
    X, y, label_map = load_imagenet_val(shared_reference / "imagenet_val_25.npz", num=5)
    assert X.shape == (5, 224, 224, 3) and X.dtype == np.uint8 and y.shape == (5,)
    assert isinstance(label_map, dict) and all(isinstance(v, str) for v in label_map.values())
    names = imagenet_class_names()
    assert all(label_map[k] == names[k] for k in label_map)  # the same standard order
    assert label_map[int(y[0])] == "hay"


def _npz(path, label_map):
    X = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    np.savez(path, X=X, y=np.array([0, 1]), label_map=np.array(label_map, dtype=object))
    return path


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_label_map_is_read_without_unpickling_arbitrary_objects(tmp_path):
    good = _npz(tmp_path / "good.npz", {0: "zero", 1: "one"})
    assert load_imagenet_val(good)[2] == {0: "zero", 1: "one"}
    evil = _npz(tmp_path / "evil.npz", {0: Exploit()})
    with pytest.raises(CorruptFileError, match="refusing to load"):
        load_imagenet_val(evil)
    wrong = _npz(tmp_path / "wrong.npz", ["a", "list"])
    with pytest.raises(CorruptFileError):
        load_imagenet_val(wrong)


def test_missing_and_broken_files_are_clear_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="imagenet_val_25.npz"):
        load_imagenet_val(tmp_path / "nothing.npz")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"garbage")
    with pytest.raises(CorruptFileError, match="broken.npz"):
        load_imagenet_val(broken)
