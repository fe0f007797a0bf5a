"""Atomic writes: write to a temporary file (or folder) beside the target, then rename it.

A crash or Ctrl-C mid-write leaves the previous file (or none), never half a file; a folder
built with `atomic_folder` appears only when it is complete.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file for writing; on success it replaces `path` atomically."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open supports modes 'w' and 'wb', not {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600; honour the umask
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically and return the path."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically and return the path."""
    with atomic_open(path, "w") as handle:
        handle.write(text)
    return Path(path)


def atomic_torch_save(obj: object, path: str | os.PathLike) -> Path:
    """`torch.save` to `path` atomically (tensors, dicts and plain values only)."""
    import torch

    with atomic_open(path, "wb") as handle:
        torch.save(obj, handle)
    return Path(path)


def atomic_savefig(figure, path: str | os.PathLike, **kwargs) -> Path:
    """Save a matplotlib figure to `path` atomically; the format comes from the suffix."""
    path = Path(path)
    kwargs.setdefault("format", path.suffix.lstrip(".") or "png")
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, **kwargs)
    return path


def check_build_target(path: str | os.PathLike, marker: str) -> Path:
    """The resolved `path` if `atomic_folder(path, marker)` may replace it (missing, empty or
    holding `marker`); else InvalidInputError. Builders call it before their slow part."""
    from vislab.errors import InvalidInputError

    path = Path(path).resolve()
    if path.exists() and not path.is_dir():
        raise InvalidInputError(f"{path} exists and is not a folder")
    if path.is_dir() and any(path.iterdir()) and not (path / marker).is_file():
        raise InvalidInputError(
            f"{path} is not empty and holds no finished build ({marker}); choose a new or "
            "empty folder"
        )
    return path


_TEMPORARY = re.compile(r"(\d+)\.\w+\.(building|old)")


def remove_abandoned_builds(path: Path) -> None:
    """Remove the temporary siblings of `path` left by builds whose process no longer runs."""
    for sibling in path.parent.glob(f".{glob.escape(path.name)}.*"):
        # .NAME.PID.RANDOM.building or .old, RANDOM from mkdtemp (no dots): never the
        # temporary folder of a target that is NAME followed by a dot and more
        owner = _TEMPORARY.fullmatch(sibling.name[len(path.name) + 2 :])
        if owner is None or not sibling.is_dir():
            continue
        try:
            os.kill(int(owner[1]), 0)
        except ProcessLookupError:
            shutil.rmtree(sibling, ignore_errors=True)
        except (PermissionError, OverflowError):
            continue  # another user's live process, or not a process id at all


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike, marker: str) -> Iterator[Path]:
    """Build a folder in a temporary sibling; on success it takes the place of `path`.

    `path` must be missing, empty, or a previous build (it holds the file `marker`, which
    the build writes last); anything else is refused before the build starts, so a user's
    folder is never replaced. A failed or interrupted build leaves `path` as it was. The
    temporary siblings carry the building process's id, so those of a build that was killed
    (SIGKILL, power loss) are removed when the next build of `path` starts.
    """
    path = check_build_target(path, marker)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_builds(path)
    prefix = f".{path.name}.{os.getpid()}."
    building = Path(tempfile.mkdtemp(prefix=prefix, suffix=".building", dir=path.parent))
    try:
        yield building
        if not (building / marker).is_file():
            raise RuntimeError(f"a build into {path} finished without writing {marker}")
        os.chmod(building, 0o777 & ~_current_umask())  # mkdtemp makes 0700
        if path.is_dir() and any(path.iterdir()):
            previous = Path(tempfile.mkdtemp(prefix=prefix, suffix=".old", dir=path.parent))
            os.replace(path, previous / path.name)
            os.replace(building, path)
            shutil.rmtree(previous, ignore_errors=True)
        else:
            os.replace(building, path)  # over a missing or empty folder, in one step
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
