"""The IDX reader: round trips on files the test writes, and every corrupt case."""

from __future__ import annotations

import gzip
import struct
import tracemalloc

import numpy as np
import pytest

from vislab.datasets import read_idx, write_idx
from vislab.errors import CorruptFileError, DataNotFoundError


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28),
        np.array([3, 1, 4, 1, 5], dtype=np.uint8),
        np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4),
        np.array([[-7, 300], [65000, 0]], dtype=np.int32),
    ],
)
def test_round_trip(tmp_path, array, suffix):
    path = write_idx(tmp_path / f"data-idx{suffix}", array)
    back = read_idx(path)
    assert back.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(back, array)


def test_header_is_the_published_layout(tmp_path):
    path = write_idx(tmp_path / "labels-idx1-ubyte", np.array([7, 2], dtype=np.uint8))
    assert path.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 2])


def _raw(tmp_path, payload: bytes, name="bad-idx"):
    path = tmp_path / name
    path.write_bytes(payload)
    return path


def test_bad_magic_names_the_file(tmp_path):
    path = _raw(tmp_path, b"\x12\x34\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(CorruptFileError, match="bad-idx.*magic"):
        read_idx(path)


def test_unknown_type_code(tmp_path):
    with pytest.raises(CorruptFileError, match="magic"):
        read_idx(_raw(tmp_path, b"\x00\x00\x07\x01\x00\x00\x00\x01\x05"))


def test_truncated_data(tmp_path):
    header = struct.pack(">HBB3I", 0, 8, 3, 2, 28, 28)
    with pytest.raises(CorruptFileError, match="truncated"):
        read_idx(_raw(tmp_path, header + bytes(28 * 28)))


def test_trailing_bytes(tmp_path):
    payload = struct.pack(">HBBI", 0, 8, 1, 2) + b"\x01\x02\x03"
    with pytest.raises(CorruptFileError, match="trailing"):
        read_idx(_raw(tmp_path, payload))


def test_truncated_header(tmp_path):
    with pytest.raises(CorruptFileError, match="header"):
        read_idx(_raw(tmp_path, struct.pack(">HBB", 0, 8, 3) + b"\x00\x00"))


def test_too_short(tmp_path):
    with pytest.raises(CorruptFileError, match="too short"):
        read_idx(_raw(tmp_path, b"\x00"))


def test_corrupt_gzip(tmp_path):
    good = gzip.compress(struct.pack(">HBBI", 0, 8, 1, 1) + b"\x05")
    path = _raw(tmp_path, good[: len(good) // 2], name="cut-idx.gz")
    with pytest.raises(CorruptFileError, match="cut-idx.gz"):
        read_idx(path)


def test_not_gzip_at_all(tmp_path):
    with pytest.raises(CorruptFileError, match="gzip"):
        read_idx(_raw(tmp_path, b"plain text, not gzip", name="fake-idx.gz"))


def test_checksum_mismatch(tmp_path):
    path = write_idx(tmp_path / "x-idx", np.zeros(3, dtype=np.uint8))
    with pytest.raises(CorruptFileError, match="checksum"):
        read_idx(path, expected_sha256="0" * 64)


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="nothing-here"):
        read_idx(tmp_path / "nothing-here")


def _gzip_bomb(path, header: bytes, zeros: int):
    """A small .gz file whose content is `header` then `zeros` zero bytes."""
    block = bytes(2**20)
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(header)
        for _ in range(zeros // len(block)):
            handle.write(block)
    return path


def test_gzip_bomb_stops_after_the_declared_size(tmp_path):
    # 784 bytes declared, 64 MiB of zeros behind them: the reader stops one byte past 784.
    path = _gzip_bomb(tmp_path / "bomb-idx.gz", struct.pack(">HBB3I", 0, 8, 3, 1, 28, 28), 2**26)
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    with pytest.raises(CorruptFileError, match="bomb-idx.gz: has trailing bytes"):
        read_idx(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 * 2**20, f"peak {peak} bytes while reading a 784-byte IDX file"


def test_header_declaring_too_much_is_refused_before_reading(tmp_path):
    header = struct.pack(">HBB3I", 0, 8, 3, 2**31, 28, 28)
    path = _gzip_bomb(tmp_path / "huge-idx.gz", header, 2**20)
    with pytest.raises(CorruptFileError, match=r"huge-idx.gz: header declares shape \(2147483648"):
        read_idx(path)
    small = _raw(tmp_path, struct.pack(">HBBI", 0, 8, 1, 10) + bytes(10), name="ten-idx")
    with pytest.raises(CorruptFileError, match="more than the 4 bytes"):
        read_idx(small, max_bytes=4)
