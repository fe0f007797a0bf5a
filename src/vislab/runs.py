"""Run folders: the layout every trainer writes, the resume rule, and the one device check.

    OUT/last.pt          the latest state: after every epoch and every --checkpoint-every
    OUT/best.pt          the best validation loss (the captioners, which validate)
    OUT/history.json     loss histories
    OUT/loss_curve.png   the same, drawn
    OUT/run.json         the options, package versions and a fingerprint of the data

The resume rule (`open_run`): a folder that holds `last.pt` is refused unless `resume`; with
`resume`, the options (but those that may change, such as the number of epochs) and the data
fingerprint must equal those in `run.json`, or the differing keys are named. What a loop
checks while it runs (signals, the checkpoint clock, non-finite losses) is in
vislab.run_guard; the random state is saved and restored by `rng_state` / `restore_rng_state`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vislab.atomic_files import atomic_savefig, atomic_write_text
from vislab.checkpoints import CheckpointWriteError
from vislab.errors import CorruptFileError, InvalidInputError
from vislab.system_info import package_versions

logger = logging.getLogger(__name__)

LAST, BEST, HISTORY, CURVE, RECORD = (
    "last.pt", "best.pt", "history.json", "loss_curve.png", "run.json"
)  # fmt: skip
# Options that a resumed run may change: how long it runs, where, and how it reports.
MAY_CHANGE = ("epochs", "device", "progress", "checkpoint_every", "blas_threads", "show_every")
WHOLE_HASH_BYTES = 64 * 2**20  # larger files: size and the hash of their first and last 8 MiB
SAMPLE_BYTES = 8 * 2**20


def check_device(device: str | torch.device) -> torch.device:
    """A torch device that exists here; `cuda` on a machine without CUDA is one sentence."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise InvalidInputError(f"unknown device {device!r}; use cpu or cuda") from error
    if device.type not in ("cpu", "cuda"):
        raise InvalidInputError(f"unknown device {str(device)!r}; use cpu or cuda")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError(f"--device {device} was asked for but CUDA is not available here")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise InvalidInputError(
            f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)"
        )
    return device


def file_fingerprint(path: str | os.PathLike) -> dict:
    """{"size", "sha256"} of a file; above 64 MiB the hash covers its first and last 8 MiB."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        if size <= WHOLE_HASH_BYTES:
            digest.update(handle.read())
        else:
            digest.update(handle.read(SAMPLE_BYTES))
            handle.seek(size - SAMPLE_BYTES)
            digest.update(handle.read(SAMPLE_BYTES))
    return {"size": size, "sha256": digest.hexdigest()}


def data_fingerprint(
    name: str,
    files: Iterable[str | os.PathLike] = (),
    vocabulary: list[str] | None = None,
    arrays: dict[str, np.ndarray | torch.Tensor] | None = None,
) -> dict:
    """What identifies a run's data: its name, its files' sizes and hashes (by file name), the
    vocabulary's hash and the hashes of in-memory arrays (shape, dtype and bytes)."""
    fingerprint: dict = {"name": name}
    for path in files:
        fingerprint[f"file {Path(path).name}"] = file_fingerprint(path)
    if vocabulary is not None:
        text = "\n".join(vocabulary).encode()
        fingerprint["vocabulary_sha256"] = hashlib.sha256(text).hexdigest()
    for key, array in (arrays or {}).items():
        if isinstance(array, torch.Tensor):
            array = array.detach().cpu().numpy()
        array = np.ascontiguousarray(array)
        digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.data)
        fingerprint[f"{key}_sha256"] = digest.hexdigest()
    return fingerprint


@contextlib.contextmanager
def _disk_errors(path: Path) -> Iterator[None]:
    """A run file that cannot be written (a full disk, no permission) is one sentence."""
    try:
        yield
    except OSError as error:
        raise CheckpointWriteError(
            f"could not write {path} ({error.strerror or error}); free some disk space or "
            "choose another --out, then resume with --resume"
        ) from error


def _plain(value):
    """The JSON form of options (paths as strings, tuples as lists) for comparison."""
    return json.loads(json.dumps(value, default=str))


def _short(value) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 24 else text[:21] + "..."


def _differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    keys = sorted(set(old) | set(new))
    return [
        f"{prefix}{k}: {_short(old.get(k, '(none)'))} -> {_short(new.get(k, '(none)'))}"
        for k in keys
        if old.get(k) != new.get(k)
    ]


@dataclass(frozen=True)
class RunFolder:
    """A run's output folder and the names of its files; `resuming`: last.pt is continued."""

    path: Path
    resuming: bool = False

    @property
    def last(self) -> Path:
        return self.path / LAST

    @property
    def best(self) -> Path:
        return self.path / BEST

    @property
    def history(self) -> Path:
        return self.path / HISTORY

    @property
    def curve(self) -> Path:
        return self.path / CURVE

    @property
    def record(self) -> Path:
        return self.path / RECORD


def _read_record(folder: RunFolder) -> dict:
    if not folder.record.is_file():
        raise InvalidInputError(
            f"{folder.last} has no {RECORD} beside it, so --resume cannot check that it "
            "continues the same run; train into another --out"
        )
    try:
        record = json.loads(folder.record.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CorruptFileError(f"{folder.record} is not a readable run record: {error}") from error
    if not isinstance(record, dict) or not all(
        isinstance(record.get(key), dict) for key in ("options", "data")
    ):
        raise CorruptFileError(f"{folder.record} lacks the run's options or data fingerprint")
    return record


def open_run(
    out_dir: str | os.PathLike,
    options: dict,
    fingerprint: dict,
    *,
    resume: bool,
    is_main: bool = True,
    may_change: Iterable[str] = MAY_CHANGE,
) -> RunFolder:
    """Apply the resume rule to `out_dir` and write its run.json (on the main process).

    options: the run's settings (JSON-able; paths become strings); fingerprint: from
    `data_fingerprint`. Returns the folder, with `resuming` True when last.pt is to be loaded.
    """
    folder = RunFolder(Path(out_dir))
    options = _plain(options)
    if folder.last.is_file() and not resume:
        raise InvalidInputError(
            f"{folder.path} already holds a run ({folder.last}): pass --resume to continue it, "
            "or choose another --out"
        )
    if folder.last.is_file():
        record = _read_record(folder)
        fixed = set(may_change)
        old = {k: v for k, v in record["options"].items() if k not in fixed}
        new = {k: v for k, v in options.items() if k not in fixed}
        changed = _differences(old, new) + _differences(record["data"], fingerprint, "data ")
        if changed:
            raise InvalidInputError(
                f"cannot resume {folder.path}: {'; '.join(changed)}; resume with the run's "
                "settings and data, or train into another --out"
            )
        folder = RunFolder(folder.path, resuming=True)
        logger.info("resuming %s", folder.last)
    elif resume:
        logger.info("no %s to resume from; starting afresh", folder.last)
    if is_main:
        for stale in folder.path.glob(".*.tmp"):  # left by a process killed while writing
            stale.unlink(missing_ok=True)
        record = {"options": options, "data": fingerprint, "versions": package_versions()}
        with _disk_errors(folder.record):
            atomic_write_text(folder.record, json.dumps(record, indent=1))
    return folder


def rng_state(
    numpy_rng: np.random.Generator | None = None, generators: Iterable[torch.Generator] = ()
) -> dict:
    """The random state a checkpoint keeps: torch's global generator, a numpy Generator and
    any torch Generators (a loop's noise stream), as tensors and strings."""
    return {
        "torch": torch.get_rng_state(),
        "numpy": None if numpy_rng is None else json.dumps(numpy_rng.bit_generator.state),
        "generators": [generator.get_state() for generator in generators],
    }


def restore_rng_state(
    saved: dict,
    numpy_rng: np.random.Generator | None = None,
    generators: Iterable[torch.Generator] = (),
) -> None:
    """Put the state from `rng_state` back (the same generators, in the same order); the
    states may come back as tensors or, through `to_numpy`, as numpy arrays."""
    torch.set_rng_state(torch.as_tensor(saved["torch"]).cpu())
    if numpy_rng is not None:
        numpy_rng.bit_generator.state = json.loads(saved["numpy"])
    generators = list(generators)
    if len(generators) != len(saved["generators"]):
        raise ValueError(f"{len(saved['generators'])} generator states for {len(generators)}")
    for generator, state in zip(generators, saved["generators"], strict=True):
        generator.set_state(torch.as_tensor(state).cpu())


def is_improvement(score: float, best: float) -> bool:
    """A finite score below the best so far (NaN and inf never are, so best stays finite)."""
    return bool(np.isfinite(score)) and score < best


def save_loss_curve(
    path: str | os.PathLike, curves: dict[str, tuple], title: str, ylabel: str
) -> Path:
    """Draw `curves` ({label: (x, y)}) against the iteration into a PNG, atomically.

    A curve of fewer than 50 points (one per epoch) is drawn with markers.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    axes = figure.add_subplot()
    for label, (x, y) in curves.items():
        style = "o-" if len(y) < 50 else "-"
        axes.plot(x, y, style, lw=0.8, label=label)
    axes.set(xlabel="iteration", ylabel=ylabel, title=title)
    axes.legend()
    figure.tight_layout()
    return atomic_savefig(figure, path)


def write_history(folder: RunFolder, history: dict, curves: dict, title: str, ylabel: str):
    """Write folder/history.json and folder/loss_curve.png (see `save_loss_curve`)."""
    with _disk_errors(folder.history):
        atomic_write_text(folder.history, json.dumps(history, indent=1))
    with _disk_errors(folder.curve):
        return save_loss_curve(folder.curve, curves, title, ylabel)
