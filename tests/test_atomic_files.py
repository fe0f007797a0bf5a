"""Atomic writes: a failed write leaves the old file, a good one replaces it."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap

import pytest

from vislab.atomic_files import atomic_folder, atomic_open, atomic_write_bytes, atomic_write_text


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


KILLED_BUILD = """
    import os, signal, sys
    from vislab.atomic_files import atomic_folder
    with atomic_folder(sys.argv[1], "DONE") as building:
        (building / "half.bin").write_bytes(b"x" * 1000)
        os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_builds_folder_is_removed_by_the_next_build(tmp_path):
    target = tmp_path / "scene set"
    child = subprocess.run([sys.executable, "-c", textwrap.dedent(KILLED_BUILD), str(target)])
    assert child.returncode == -signal.SIGKILL
    (leftover,) = tmp_path.iterdir()
    assert leftover.name.endswith(".building") and (leftover / "half.bin").is_file()
    assert not target.exists()
    live = tmp_path / f".{target.name}.{os.getpid()}.abc.building"  # this live process's
    live.mkdir()
    unrelated = tmp_path / f".{target.name}.notes"
    unrelated.write_text("kept")
    # the build of another target, "scene set.4194305" (above any pid_max): not ours
    other = tmp_path / f".{target.name}.4194305.{os.getpid()}.abc.building"
    other.mkdir()
    with atomic_folder(target, "DONE") as building:
        (building / "DONE").write_text("ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, live.name, unrelated.name, other.name]
    )
    assert (target / "DONE").read_text() == "ok"
