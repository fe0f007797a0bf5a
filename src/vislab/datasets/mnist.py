"""MNIST-format data sets (Fashion-MNIST, MNIST): where they are and how to load them.

Discovery order: an explicit `data_dir` > the VISLAB_DATA_DIR environment variable >
the folder of Debian's `dataset-fashion-mnist` package > an error naming the files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from vislab.datasets.idx import read_idx
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError

DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
# SHA-256 of the decompressed files, identical to the upstream Fashion-MNIST release.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
_SPLIT_PREFIX = {"train": "train", "test": "t10k"}
IMAGE_SHAPE = (28, 28)
INSTALL_HINT = (
    f"install Debian's package with `apt-get install {DEBIAN_PACKAGE}` (or run `make setup` "
    "as root), or pass --data-dir / set VISLAB_DATA_DIR to a folder holding the four "
    "MNIST-format files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
    "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])"
)


def _debian_folder() -> Path | None:
    """The folder where dpkg says the Debian package put its files, if it is installed."""
    if DEBIAN_FOLDER.is_dir():
        return DEBIAN_FOLDER
    if shutil.which("dpkg") is None:
        return None
    listing = subprocess.run(
        ["dpkg", "-L", DEBIAN_PACKAGE], capture_output=True, text=True, check=False
    )
    for line in listing.stdout.splitlines():
        if line.endswith("train-images-idx3-ubyte.gz"):
            return Path(line).parent
    return None


def find_mnist_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the folder to read MNIST-format files from (see the module docstring)."""
    if data_dir is not None:
        folder = Path(data_dir)
        if not folder.is_dir():
            raise DataNotFoundError(f"data folder not found: {folder}")
        return folder
    from_env = os.environ.get("VISLAB_DATA_DIR")
    if from_env:
        folder = Path(from_env)
        if not folder.is_dir():
            raise DataNotFoundError(f"VISLAB_DATA_DIR={from_env} is not a folder")
        return folder
    folder = _debian_folder()
    if folder is None:
        raise DataNotFoundError(f"Fashion-MNIST not found: {INSTALL_HINT}")
    return folder


def _split_file(folder: Path, stem: str) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise DataNotFoundError(f"missing {folder / stem}[.gz]: {INSTALL_HINT}")


def _digest(path: Path) -> str | None:
    return FASHION_MNIST_SHA256.get(path.name.removesuffix(".gz"))


def load_mnist_format(
    data_dir: str | os.PathLike | None = None, split: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of an MNIST-format data set.

    Returns images (N, 28, 28) uint8 and labels (N,) int64. `split` is "train" or "test".
    Files found through Debian's package are checked against the published checksums.
    """
    if split not in _SPLIT_PREFIX:
        raise InvalidInputError(f"unknown split {split!r}: choose 'train' or 'test'")
    folder = find_mnist_dir(data_dir)
    prefix = _SPLIT_PREFIX[split]
    image_path = _split_file(folder, f"{prefix}-images-idx3-ubyte")
    label_path = _split_file(folder, f"{prefix}-labels-idx1-ubyte")
    verify = folder == _debian_folder()
    images = read_idx(image_path, _digest(image_path) if verify else None)
    labels = read_idx(label_path, _digest(label_path) if verify else None)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise CorruptFileError(f"{image_path}: expected uint8 images (N, H, W), got {images.shape}")
    if images.shape[1:] != IMAGE_SHAPE:
        height, width = images.shape[1:]
        raise CorruptFileError(
            f"{image_path} holds {height}x{width} images; MNIST-format data sets are 28x28"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise CorruptFileError(
            f"{label_path}: {labels.shape} labels do not match {len(images)} images in {image_path}"
        )
    if not len(images):
        raise CorruptFileError(f"{image_path} holds no images")
    if labels.dtype != np.uint8:  # the format's labels are unsigned bytes (a class 0..9)
        raise CorruptFileError(f"{label_path}: labels must be unsigned bytes, are {labels.dtype}")
    if labels.max() > 9:
        raise CorruptFileError(f"{label_path}: label {labels.max()} outside 0..9")
    return images, labels.astype(np.int64)
