"""The course's ImageNet validation npz, loaded safely (class names: tests/test_class_names.py)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from vislab.class_names import imagenet_class_names
from vislab.datasets.imagenet import load_imagenet_val
from vislab.errors import CorruptFileError, DataNotFoundError


def test_load_imagenet_val_reads_the_packaged_course_images():
    X, y, label_map = load_imagenet_val(num=5)
    assert X.shape == (5, 224, 224, 3) and X.dtype == np.uint8
    assert y.tolist() == [958, 85, 244, 182, 294]  # the course file's first five labels
    names = imagenet_class_names()
    assert len(label_map) == 999 and 134 not in label_map  # as in the course's label_map
    assert all(label_map[k] == names[k] for k in label_map)  # the same standard order
    assert label_map[958] == "hay"
    assert load_imagenet_val()[0].shape == (25, 224, 224, 3)


def _course_npz(path, label_map):
    """An npz laid out as the course's: the label map as a pickled object array."""
    X = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    np.savez(path, X=X, y=np.array([0, 1]), label_map=np.array(label_map, dtype=object))
    return path


class Exploit:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_course_npz_is_read_without_unpickling_its_label_map(tmp_path):
    marker = tmp_path / "payload-ran"
    evil = _course_npz(tmp_path / "evil.npz", {0: Exploit(marker)})
    X, y, label_map = load_imagenet_val(evil)
    assert not marker.exists()
    assert X.shape == (2, 4, 4, 3) and y.tolist() == [0, 1]
    assert label_map[0].startswith("tench") and len(label_map) == 1000


def test_plain_class_arrays_are_checked(tmp_path):
    X = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    good = tmp_path / "good.npz"
    np.savez(
        good,
        X=X,
        y=np.array([3, 7]),
        class_ids=np.array([3, 7]),
        class_names=np.array(["three", "seven"]),
    )
    assert load_imagenet_val(good)[2] == {3: "three", 7: "seven"}
    unknown = tmp_path / "unknown.npz"
    np.savez(
        unknown,
        X=X,
        y=np.array([3, 8]),
        class_ids=np.array([3, 7]),
        class_names=np.array(["three", "seven"]),
    )
    with pytest.raises(CorruptFileError, match="labels outside its class list"):
        load_imagenet_val(unknown)
    mismatched = tmp_path / "mismatched.npz"
    np.savez(
        mismatched,
        X=X,
        y=np.array([3, 7]),
        class_ids=np.array([3, 7]),
        class_names=np.array(["three"]),
    )
    with pytest.raises(CorruptFileError, match="matching int/str lists"):
        load_imagenet_val(mismatched)
    floats = tmp_path / "floats.npz"
    np.savez(floats, X=X.astype(np.float32), y=np.array([0, 1]))
    with pytest.raises(CorruptFileError, match=r"expected \(N, H, W, 3\) uint8"):
        load_imagenet_val(floats)


def test_missing_and_broken_files_are_clear_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="imagenet_val_25.npz"):
        load_imagenet_val(tmp_path / "nothing.npz")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"garbage")
    with pytest.raises(CorruptFileError, match="broken.npz"):
        load_imagenet_val(broken)
