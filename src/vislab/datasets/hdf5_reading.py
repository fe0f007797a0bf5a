"""Reading HDF5 files that came from anywhere: look at every dataset's header before reading.

`Hdf5File(path).dataset(name, ndim, kinds)` checks a dataset's shape, dtype and declared size
without reading it; the caller checks the shapes against each other, then `read(name)`.
Refused before any data is read: links (soft, external) and datasets stored in other files
(external storage, virtual datasets); dtypes of the wrong kind; more than MAX_BYTES; a
declared size that the file could not hold even compressed MAX_COMPRESSION times.
Every h5py failure becomes a CorruptFileError naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from vislab.errors import CorruptFileError

# The course's raw fc7 features, the largest array of its layout, are 82783 x 4096 float32
# (1.4 GB); a dataset declaring more than MAX_BYTES is refused.
MAX_BYTES = 4 * 2**30
# Captions and features compress at most ~10x; a dataset that declares more than this many
# times the bytes stored for it is a bomb (or unwritten, which reads as fill values).
MAX_COMPRESSION = 1000
_H5PY_ERRORS = (OSError, KeyError, ValueError, TypeError, RuntimeError, AttributeError)
_KIND_NAMES = {"i": "integer", "u": "integer", "f": "floating-point", "b": "boolean"}


class Hdf5File:
    """An HDF5 file opened for checked reads; use as a context manager."""

    def __init__(self, path: str | os.PathLike, what: str = "HDF5 file"):
        self.path = Path(path)
        self.what = what
        try:
            self._handle = h5py.File(self.path, "r")
        except _H5PY_ERRORS as error:
            raise CorruptFileError(f"{self.path} is not a readable {what}: {error}") from error

    def __enter__(self) -> Hdf5File:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._handle.close()
        except _H5PY_ERRORS:
            pass  # closing a damaged file can fail; nothing was written to it

    def has(self, name: str) -> bool:
        try:
            return self._handle.get(name, getlink=True) is not None
        except CorruptFileError:
            raise
        except _H5PY_ERRORS as error:
            raise self._corrupt(f"cannot look up `{name}` ({error})") from error

    def dataset(self, name: str, ndim: int, kinds: str) -> tuple[int, ...]:
        """The shape of dataset `name` after checking it is a plain dataset in this file of
        `ndim` dimensions, a dtype of one of `kinds` (numpy kind letters, "iu", "f", "b")
        and a believable size. Nothing is read."""
        try:
            link = self._handle.get(name, getlink=True)
            if link is None:
                raise self._corrupt(f"has no `{name}` dataset")
            if not isinstance(link, h5py.HardLink):
                raise self._corrupt(f"`{name}` is a {type(link).__name__}, not a plain dataset")
            dataset = self._handle[name]
            if not isinstance(dataset, h5py.Dataset):
                raise self._corrupt(f"`{name}` is a group, not a dataset")
            if dataset.external or dataset.is_virtual:
                raise self._corrupt(f"`{name}` keeps its data in other files")
            shape, dtype = tuple(int(n) for n in dataset.shape), dataset.dtype
            stored = dataset.id.get_storage_size()
        except CorruptFileError:
            raise
        except _H5PY_ERRORS as error:
            raise self._corrupt(f"`{name}` cannot be inspected ({error})") from error
        if len(shape) != ndim:
            raise self._corrupt(f"`{name}` must have {ndim} dimensions, has shape {shape}")
        if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None:
            wanted = " or ".join(sorted({_KIND_NAMES[k] for k in kinds}))
            raise self._corrupt(f"`{name}` must hold {wanted} values, holds {dtype}")
        declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if declared > MAX_BYTES:
            raise self._corrupt(f"`{name}` declares {shape} ({declared} bytes), over {MAX_BYTES}")
        if declared > max(stored, 1) * MAX_COMPRESSION:
            raise self._corrupt(f"`{name}` declares {declared} bytes but stores only {stored}")
        return shape

    def read(self, name: str) -> np.ndarray:
        """Read dataset `name` (check it with `dataset` first)."""
        try:
            return np.asarray(self._handle[name][()])
        except _H5PY_ERRORS as error:
            raise self._corrupt(f"`{name}` cannot be read ({error})") from error

    def _corrupt(self, problem: str) -> CorruptFileError:
        return CorruptFileError(f"{self.path} is not a valid {self.what}: {problem}")
