"""Atomic writes: a failed write leaves the old file, a good one replaces it."""

from __future__ import annotations

import stat

import pytest

from vislab.atomic_files import atomic_open, atomic_write_bytes, atomic_write_text


def test_replaces_and_leaves_no_temporary_files(tmp_path):
    target = atomic_write_text(tmp_path / "sub" / "out.txt", "first")
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_interrupted_write_keeps_the_previous_file(tmp_path):
    target = atomic_write_bytes(tmp_path / "ck.bin", b"good")
    with pytest.raises(KeyboardInterrupt), atomic_open(target) as handle:
        handle.write(b"half")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["ck.bin"]


def test_files_get_ordinary_permissions(tmp_path):
    mode = stat.S_IMODE(atomic_write_bytes(tmp_path / "x", b"").stat().st_mode)
    assert mode & 0o044  # readable by others under the usual umask, not mkstemp's 0600


def test_only_write_modes(tmp_path):
    with pytest.raises(ValueError, match="modes"), atomic_open(tmp_path / "x", "a"):
        pass
