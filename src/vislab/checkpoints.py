"""Checkpoints: one atomic writer with a format tag and version, one safe reader.

A checkpoint is a dict of tensors and plain values (dict, list, tuple, str, int, float, bool,
None) plus two keys of its own: "format" (what wrote it, e.g. "vislab-gan") and
"format_version". `save_checkpoint` serialises it in memory and writes the bytes atomically
(vislab.atomic_files), so a crash or a full disk leaves the previous file as it was.
`load_checkpoint` reads with `torch.load(weights_only=True)` (no arbitrary unpickling), checks
the tag, the version, that only tensors and plain containers came out, and the keys the
caller requires; every way a file can be wrong is a CorruptFileError naming the file.
numpy arrays in a payload are stored as tensors (`to_tensors`) and come back with `to_numpy`.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from vislab.atomic_files import atomic_write_bytes
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError, VislabError

FORMAT_VERSION = 1
MAX_DEPTH = 32
PLAIN_TYPES = (str, int, float, bool, type(None), torch.Tensor)
# What putting odd content into models raises (wrong keys, shapes, types, absurd sizes).
BAD_CONTENT = (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError,
               MemoryError, OverflowError)  # fmt: skip


class CheckpointWriteError(VislabError):
    """A checkpoint could not be written (full disk, no permission); the previous one is kept."""


def to_tensors(value):
    """numpy arrays -> torch tensors, numpy scalars -> Python numbers, recursively."""
    if isinstance(value, dict):
        return {key: to_tensors(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_tensors(item) for item in value]
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value).copy())
    if isinstance(value, np.generic):
        return value.item()
    return value


def to_numpy(value):
    """Inverse of `to_tensors`: torch tensors -> numpy arrays, recursively."""
    if isinstance(value, dict):
        return {key: to_numpy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_numpy(item) for item in value]
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return value


def save_checkpoint(path: str | os.PathLike, kind: str, payload: dict) -> Path:
    """Write `payload` (tensors, numpy arrays and plain values) tagged as `kind`, atomically.

    A failed write (ENOSPC, EACCES, ...) raises CheckpointWriteError and leaves any previous
    file at `path` untouched.
    """
    path = Path(path)
    buffer = io.BytesIO()
    torch.save({"format": kind, "format_version": FORMAT_VERSION, **to_tensors(payload)}, buffer)
    try:
        return atomic_write_bytes(path, buffer.getbuffer())
    except OSError as error:
        reason = error.strerror or str(error)
        raise CheckpointWriteError(
            f"could not write the checkpoint {path} ({reason}); the previous checkpoint there "
            "is kept: free some disk space (or choose another --out) and resume with --resume"
        ) from error


def load_plain(path: str | os.PathLike, **options):
    """torch.load(path, weights_only=True, **options), without the warning torch prints about
    the pickle protocol of a file it may then refuse: the refusal is what the user is told."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pickle protocol", category=UserWarning)
        return torch.load(path, weights_only=True, **options)


def first_line(error: BaseException) -> str:
    """The first line of an error's text, at most 160 characters (torch's can run to KBs)."""
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line if len(line) <= 160 else line[:157] + "..."


def _check_plain(state: dict, path: Path) -> None:
    """Tensors, str/int/float/bool/None and dicts, lists, tuples of them; nothing else."""
    stack: list[tuple[object, str, int]] = [(state, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:  # nothing vislab writes nests this deep; to_numpy recurses
            raise CorruptFileError(f"{path} nests deeper than {MAX_DEPTH} levels at {where}")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str | int):
                    raise CorruptFileError(f"{path} holds a {type(key).__name__} key at {where}")
                stack.append((item, f"{where}/{key}", depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))
        elif not isinstance(value, PLAIN_TYPES):
            raise CorruptFileError(
                f"{path} holds a {type(value).__name__} at {where or 'the top'}, "
                "not a tensor or a plain value"
            )


def read_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict:
    """Any vislab checkpoint, checked for the tag, the version and plain content only."""
    path = Path(path)
    try:
        state = load_plain(path, map_location=device)
    except Exception as error:  # truncated, foreign or pickled objects: torch raises many kinds
        raise CorruptFileError(
            f"{path} is not a readable vislab checkpoint ({first_line(error)})"
        ) from error
    if not isinstance(state, dict) or not isinstance(state.get("format"), str):
        raise CorruptFileError(f"{path} is not a vislab checkpoint (it has no format tag)")
    version = state.get("format_version")
    if type(version) is not int or not 1 <= version <= FORMAT_VERSION:
        raise CorruptFileError(
            f"{path} has checkpoint format version {version!r}; this vislab reads "
            f"versions 1 to {FORMAT_VERSION}"
        )
    _check_plain(state, path)
    return state


def load_checkpoint(
    path: str | os.PathLike,
    kinds: str | Iterable[str],
    required: dict[str, type | tuple[type, ...]] | None = None,
    *,
    device: str | torch.device = "cpu",
    missing_hint: str = "",
) -> dict:
    """Read a checkpoint of one of `kinds`, with `required` top-level keys of the given types.

    A missing file is DataNotFoundError (with `missing_hint`, e.g. which command writes it);
    anything else wrong with it is CorruptFileError naming the file.
    """
    path = Path(path)
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if not path.is_file():
        hint = f"; {missing_hint}" if missing_hint else ""
        raise DataNotFoundError(f"checkpoint {path} does not exist{hint}")
    state = read_checkpoint(path, device)
    if state["format"] not in kinds:
        raise CorruptFileError(
            f"{path} is a {state['format']} checkpoint, not {' or '.join(kinds)}"
        )
    for key, types in (required or {}).items():
        if key not in state:
            raise CorruptFileError(f"{path} lacks {key!r}; the file is damaged or not a run's")
        if not isinstance(state[key], types) or (types is int and isinstance(state[key], bool)):
            raise CorruptFileError(f"{path}: {key!r} is a {type(state[key]).__name__}")
    return state


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: dict) -> None:
    """optimizer.load_state_dict(state), then refuse hyperparameters of another kind than the
    optimizer's own (an lr of "x" loads, and fails only at the next step)."""
    optimizer.load_state_dict(state)
    for group in optimizer.param_groups:
        for name, default in optimizer.defaults.items():
            if name in group and not _same_kind(group[name], default):
                raise InvalidInputError(
                    f"the optimizer's {name} is {group[name]!r}, not like {default!r}"
                )


def _same_kind(value, default) -> bool:
    """Booleans stay booleans, numbers stay finite numbers, tuples keep their length."""
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)
    if isinstance(default, tuple):
        return (
            isinstance(value, tuple | list)
            and len(value) == len(default)
            and all(_same_kind(v, d) for v, d in zip(value, default, strict=True))
        )
    return True


@contextlib.contextmanager
def checkpoint_errors(path: str | os.PathLike) -> Iterator[None]:
    """`with checkpoint_errors(path):` turns what a damaged checkpoint raises while it is put
    into models and optimisers (wrong shapes, keys or values) into CorruptFileError."""
    try:
        yield
    except CorruptFileError:
        raise
    except InvalidInputError as error:  # e.g. a config in the file that vislab refuses
        raise CorruptFileError(f"{path}: {error}") from error
    except BAD_CONTENT as error:
        raise CorruptFileError(f"{path} does not fit this run ({first_line(error)})") from error
