"""vislab's files beside the course's `coco_captioning` layout: grid features and scene truth.

    train2014_grid_features.h5    dataset `features` (num_images, L, F) float32: one vector per
    val2014_grid_features.h5      grid cell (L = 9 for the scenes' 3 x 3 grid, 49 for photos)
    scene_truth.h5                `{split}_truth` (num_images, G, 3) int: (class, row, column)
                                  per garment, -1-padded; `{split}_novel` (num_images,) bool:
                                  the scene's combination of classes never occurs in train

The course's `load_coco_data` ignores them, so the folder stays loadable by the course;
vislab's `load_coco_data` adds `{split}_grid_features`, `{split}_truth`, `{split}_novel`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vislab.datasets.coco_layout import SPLITS, read_features, write_h5
from vislab.datasets.hdf5_reading import Hdf5File
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError

TRUTH_FILE = "scene_truth.h5"
MAX_GARMENTS = 64  # per scene in a truth file (the scenes hold 1-3)
NUM_CLASSES = 10  # Fashion-MNIST's, which the truth names
GRID_SIDE = 3  # the scenes' 3 x 3 grid of cells
REBUILD_HINT = (
    "rebuild the folder with `vislab data build-scenes --out DIR` (scenes) or "
    "`vislab data build-captions --images DIR --annotations FILE --out DIR` (photos)"
)


def grid_features_file(split: str) -> str:
    return f"{split}2014_grid_features.h5"


def write_grid_data(
    out_dir: str | os.PathLike,
    grid_features: dict[str, np.ndarray] | None = None,
    truth: dict[str, np.ndarray] | None = None,
) -> None:
    """Write grid features {split: (num_images, L, F)} and truth {`{split}_truth`: (num_images,
    G, 3), `{split}_novel`: (num_images,)} atomically; None writes nothing."""
    out = Path(out_dir)
    for split, features in (grid_features or {}).items():
        write_h5(out / grid_features_file(split), {"features": np.asarray(features, "float32")})
    if truth:
        arrays = {
            name: np.asarray(value, bool if name.endswith("_novel") else np.int16)
            for name, value in truth.items()
        }
        write_h5(out / TRUTH_FILE, arrays)


def read_grid_data(folder: Path, data: dict) -> None:
    """Add whatever grid features and truth the folder holds to `data` (load_coco_data's dict),
    checked against the number of images of each split."""
    for split in SPLITS:
        num_images = len(data[f"{split}_features"])
        path = folder / grid_features_file(split)
        if path.is_file():
            grid = read_features(path, ndim=3)
            if grid.ndim != 3 or len(grid) != num_images:
                raise CorruptFileError(
                    f"{path} must hold features (num_images={num_images}, cells, F), "
                    f"got {grid.shape}"
                )
            data[f"{split}_grid_features"] = grid
    shapes = {split: data[f"{split}_grid_features"].shape[1:] for split in SPLITS
              if f"{split}_grid_features" in data}  # fmt: skip
    if len(set(shapes.values())) > 1:
        raise CorruptFileError(
            f"{folder}: the train and val grid features differ in shape ({shapes['train']} and "
            f"{shapes['val']} cells x features per image); {REBUILD_HINT}"
        )
    path = folder / TRUTH_FILE
    if path.is_file():
        _read_truth(path, data)


def _read_truth(path: Path, data: dict) -> None:
    """`{split}_truth` (num_images, G, 3) int and optional `{split}_novel` (num_images,) bool,
    every header checked against the number of images before anything is read."""
    with Hdf5File(path, "scene truth file") as h5:
        names = []
        for split in SPLITS:
            num_images = len(data[f"{split}_features"])
            shape = h5.dataset(f"{split}_truth", 3, "iu")
            if shape[0] != num_images or shape[2] != 3 or shape[1] > MAX_GARMENTS:
                raise CorruptFileError(
                    f"{path}: {split}_truth must be (num_images={num_images}, garments <= "
                    f"{MAX_GARMENTS}, 3), is {shape}"
                )
            names.append(f"{split}_truth")
            if h5.has(f"{split}_novel"):
                if h5.dataset(f"{split}_novel", 1, "biu") != (num_images,):
                    raise CorruptFileError(f"{path}: {split}_novel must be ({num_images},)")
                names.append(f"{split}_novel")
        for name in names:
            array = h5.read(name)
            if name.endswith("_truth"):
                _check_truth_values(path, name, array)
            data[name] = array.astype(bool if name.endswith("_novel") else np.int64)


def _check_truth_values(path: Path, name: str, truth: np.ndarray) -> None:
    """Each row is a garment (class 0..9, row and column 0..2) or padding (all -1)."""
    padding = (truth == -1).all(axis=2)
    garment = (
        (truth[..., 0] >= 0) & (truth[..., 0] < NUM_CLASSES)
        & (truth[..., 1:] >= 0).all(axis=2) & (truth[..., 1:] < GRID_SIDE).all(axis=2)
    )  # fmt: skip
    if not (padding | garment).all():
        scene, slot = np.argwhere(~(padding | garment))[0]
        raise CorruptFileError(
            f"{path}: {name}[{scene}, {slot}] is {truth[scene, slot].tolist()}, neither a garment "
            f"(class 0..{NUM_CLASSES - 1}, row and column 0..{GRID_SIDE - 1}) nor padding (-1)"
        )


def require_grid_features(data: dict, data_dir, model: str) -> None:
    """Raise DataNotFoundError naming the files and the rebuild command when data lacks them."""
    if "train_grid_features" not in data or "val_grid_features" not in data:
        raise DataNotFoundError(
            f"the {model} captioner needs grid features ({grid_features_file('train')}, "
            f"{grid_features_file('val')}) and {data_dir} has none; {REBUILD_HINT}"
        )


def require_truth(data: dict, data_dir) -> None:
    """Raise DataNotFoundError when data has no scene truth (photos never have one)."""
    if "val_truth" not in data:
        raise DataNotFoundError(
            f"{data_dir} has no {TRUTH_FILE} (scores against the truth need a scene set); "
            "rebuild it with `vislab data build-scenes --out DIR`"
        )


def split_features(data: dict, split: str, layout: str = "vector", data_dir=None) -> np.ndarray:
    """The image features a captioner reads: `{split}_features` (num_images, D) for "vector"
    captioners, `{split}_grid_features` (num_images, L, F) for "grid" ones."""
    if layout != "grid":
        return data[f"{split}_features"]
    require_grid_features(data, data_dir if data_dir is not None else "the data folder", layout)
    return data[f"{split}_grid_features"]


def square_grid(num_cells: int) -> tuple[int, int]:
    """The (rows, columns) of a square grid of num_cells cells (9 -> (3, 3), 49 -> (7, 7))."""
    side = round(num_cells**0.5)
    if side * side != num_cells:
        raise InvalidInputError(f"grid features hold {num_cells} cells, not a square grid")
    return side, side
