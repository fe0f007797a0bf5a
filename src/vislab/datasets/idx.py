"""The IDX file format of MNIST and Fashion-MNIST: read and write, `.gz` or raw.

Layout: 2 zero bytes, a type code (0x08 = uint8), the number of dimensions, then each
dimension as a big-endian uint32, then the data in C order.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import zlib
from pathlib import Path
from typing import IO

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


# The largest data part read_idx accepts unless told otherwise: Fashion-MNIST's training
# images are 47 MB; a header declaring more than this is refused before anything is read.
MAX_DATA_BYTES = 2**30
_CHUNK = 2**20


def _read_exactly(handle: IO[bytes], size: int) -> bytes:
    """Read up to `size` bytes in chunks (a short read only at the end of the stream)."""
    chunks, left = [], size
    while left > 0:
        chunk = handle.read(min(left, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _parse_header(path: Path, handle: IO[bytes]) -> tuple[bytes, tuple[int, ...], np.dtype]:
    head = _read_exactly(handle, 4)
    if len(head) < 4:
        raise CorruptFileError(f"{path}: {len(head)} bytes is too short for an IDX header")
    zero, type_code, ndim = struct.unpack(">HBB", head)
    if zero != 0 or type_code not in _IDX_DTYPES:
        raise CorruptFileError(
            f"{path}: bad IDX magic number 0x{head.hex()} (expected 0x0000 then a type code)"
        )
    if ndim == 0:
        raise CorruptFileError(f"{path}: IDX header declares zero dimensions")
    dims = _read_exactly(handle, 4 * ndim)
    if len(dims) < 4 * ndim:
        raise CorruptFileError(f"{path}: truncated IDX header ({ndim} dimensions declared)")
    return head + dims, struct.unpack(f">{ndim}I", dims), _IDX_DTYPES[type_code]


def read_idx(
    path: str | os.PathLike,
    expected_sha256: str | None = None,
    max_bytes: int = MAX_DATA_BYTES,
) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a numpy array of its native shape.

    The header is read first; then at most the declared data size plus one byte is read or
    decompressed, so a gzip bomb or a wrong header stops early. Raises CorruptFileError
    naming the file when the magic number, the dimensions or the data size do not agree,
    when the header declares more than `max_bytes` of data, or when `expected_sha256` is
    given and the SHA-256 of the decompressed bytes differs (compressed files differ between
    distributions; their content does not).
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"IDX file not found: {path}")
    try:
        with (
            open(path, "rb") as raw,
            gzip.GzipFile(fileobj=raw, mode="rb") if path.suffix == ".gz" else raw as handle,
        ):
            header, shape, dtype = _parse_header(path, handle)
            expected = math.prod(shape) * dtype.itemsize
            if expected > max_bytes:
                raise CorruptFileError(
                    f"{path}: header declares shape {shape} ({expected} bytes), more than the "
                    f"{max_bytes} bytes an IDX file may hold here"
                )
            data = _read_exactly(handle, expected + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise CorruptFileError(f"{path}: not a readable gzip file ({error})") from error
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        found = str(len(data)) if len(data) <= expected else "more"
        raise CorruptFileError(
            f"{path}: {what}: shape {shape} needs {expected} data bytes, found {found}"
        )
    if expected_sha256 is not None:
        if hashlib.sha256(header + data).hexdigest() != expected_sha256:
            raise CorruptFileError(f"{path}: content checksum differs from the published data set")
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


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
