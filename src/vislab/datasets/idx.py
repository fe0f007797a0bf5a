"""The IDX file format of MNIST and Fashion-MNIST: read and write, `.gz` or raw.

Layout: 2 zero bytes, a type code (0x08 = uint8), the number of dimensions, then each
dimension as a big-endian uint32, then the data in C order.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from vislab.atomic_files import atomic_write_bytes
from vislab.errors import CorruptFileError, DataNotFoundError

# Type codes of the IDX format and the numpy dtypes they hold (big-endian on disk).
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DataNotFoundError(f"IDX file not found: {path}")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise CorruptFileError(f"{path}: not a readable gzip file ({error})") from error


def read_idx(path: str | os.PathLike, expected_sha256: str | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a numpy array of its native shape.

    Raises CorruptFileError naming the file when the magic number, the dimensions or
    the data size do not agree, or when `expected_sha256` is given and the SHA-256 of
    the decompressed bytes differs (compressed files differ between distributions;
    their content does not).
    """
    path = Path(path)
    raw = _read_bytes(path)
    if expected_sha256 is not None and hashlib.sha256(raw).hexdigest() != expected_sha256:
        raise CorruptFileError(f"{path}: content checksum differs from the published data set")
    if len(raw) < 4:
        raise CorruptFileError(f"{path}: {len(raw)} bytes is too short for an IDX header")
    zero, type_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or type_code not in _IDX_DTYPES:
        raise CorruptFileError(
            f"{path}: bad IDX magic number 0x{raw[:4].hex()} (expected 0x0000 then a type code)"
        )
    if ndim == 0:
        raise CorruptFileError(f"{path}: IDX header declares zero dimensions")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise CorruptFileError(f"{path}: truncated IDX header ({ndim} dimensions declared)")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header_size
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise CorruptFileError(
            f"{path}: {what}: shape {shape} needs {expected} data bytes, found {actual}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write `array` as an IDX file (gzip-compressed when `path` ends in .gz), atomically."""
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in _IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    header = struct.pack(">HBB", 0, codes[native], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    big_endian = array.astype(_IDX_DTYPES[codes[native]], copy=False)
    payload = header + np.ascontiguousarray(big_endian).tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    return atomic_write_bytes(path, payload)
