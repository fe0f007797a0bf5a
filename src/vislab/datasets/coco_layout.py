"""The pieces of the course's `coco_captioning` folder that its extras share with it.

`coco.py` reads and writes the course's files, `grid_data.py` vislab's files beside them; both
build on this module: the split names, the hint that says where the folder comes from, and
reading and writing one HDF5 file.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from vislab.atomic_files import atomic_open
from vislab.datasets.hdf5_reading import Hdf5File
from vislab.errors import CorruptFileError, DataNotFoundError

ENV_VAR = "VISLAB_COCO_DIR"
SPLITS = ("train", "val")
MAX_FEATURE_DIM = 2**16  # COCO's features are 512 or 4096 values per image
GET_HINT = (
    "the course's `cs231n/datasets/get_datasets.sh` downloads the `coco_captioning` folder; "
    f"pass its path (--data DIR) or set {ENV_VAR}, or build a small one with "
    "`vislab data build-captions`"
)


def require_file(path: Path) -> Path:
    """`path` if it is a file, else DataNotFoundError naming it and where the folder comes from."""
    if not path.is_file():
        raise DataNotFoundError(f"{path.name} is missing from {path.parent}; {GET_HINT}")
    return path


def read_features(path: Path, ndim: int = 2, urls: tuple[Path, int] | None = None) -> np.ndarray:
    """The float `features` dataset of `path`; its header is checked before it is read: `ndim`
    dimensions, at most MAX_FEATURE_DIM values per row and, with `urls` (a url list and its
    number of lines), one row per url."""
    require_file(path)
    with Hdf5File(path, "features file") as h5:
        shape = h5.dataset("features", ndim, "f")
        if int(np.prod(shape[1:])) > MAX_FEATURE_DIM:
            raise CorruptFileError(f"{path}: features {shape} hold over {MAX_FEATURE_DIM} per row")
        if urls is not None and shape[0] != urls[1]:
            raise CorruptFileError(
                f"{urls[0]} lists {urls[1]} urls but {path.name} has {shape[0]} feature rows"
            )
        return h5.read("features")


def write_h5(path: Path, datasets: dict[str, np.ndarray]) -> None:
    """Write named arrays into one HDF5 file, atomically."""
    with atomic_open(path, "wb") as handle, h5py.File(handle, "w") as h5:
        for name, array in datasets.items():
            h5.create_dataset(name, data=array)
