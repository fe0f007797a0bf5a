"""Validated argparse types: a bad number or path is refused where it is parsed, by name.

Each function here is an argparse `type=`: it turns the string into a value or raises
`argparse.ArgumentTypeError`, which argparse reports as `argument --epochs: ...`. Zero,
negative and empty values are refused rather than read as "the default" or "all".
`OneLineParser` prints such a parse error as one line, `vislab: error: ...`.

The output types (`output_folder`, `output_file`, `build_folder`) only check that their
folder can be made; `OneLineParser.parse_args` makes them once every option is valid, so a
refused command (`--out new/run --epochs -1`) leaves nothing behind.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from vislab.errors import InvalidInputError

# The folders the output options of the command line being parsed need, in order, and the
# ones the parse then made (deepest last), which `remove_made_folders` takes back.
_needed_folders: list[Path] = []
_made_folders: list[Path] = []


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit code 2), no usage dump."""

    def error(self, message: str):
        self.exit(2, f"vislab: error: {message} (see `{self.prog} --help`)\n")

    def parse_args(self, args=None, namespace=None):
        """Parse, then make the folders the output options need (subcommands are parsed by
        `parse_known_args`, so this runs once, for the whole command line)."""
        _needed_folders.clear()
        _made_folders.clear()
        parsed = super().parse_args(args, namespace)
        folders = list(dict.fromkeys(_needed_folders))
        _needed_folders.clear()
        for folder in folders:
            missing = [p for p in (folder, *folder.absolute().parents) if not p.exists()]
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                remove_made_folders()
                self.error(f"cannot create folder {folder}: {error.strerror}")
            _made_folders.extend(reversed(missing))
        return parsed


def remove_made_folders() -> None:
    """Remove the folders the last parse made that are still empty (a command that failed
    leaves no empty folder behind); what a command wrote into them stays."""
    for folder in reversed(_made_folders):
        try:
            folder.rmdir()
        except OSError:
            pass  # not empty (or gone): it is kept
    _made_folders.clear()


def _integer(text: str) -> int:
    try:
        if not text.isascii() or "_" in text:  # int() reads other scripts' digits, and 1_000
            raise ValueError(text)
        return int(text.strip(), 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _bounded(parse, accept, requirement: str, doc: str):
    """An argparse type: `parse` the text, then refuse values `accept` rejects, saying
    `requirement` ("must be zero or more") and what was given."""

    def check(text: str):
        value = parse(text)
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{requirement}, got {text.strip()}")
        return value

    check.__doc__ = doc
    return check


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


positive_int = _bounded(_integer, lambda n: n >= 1, "must be a positive whole number", "n >= 1")
non_negative_int = _bounded(
    _integer, lambda n: n >= 0, "must be zero or more", "n >= 0 (a count where 0 means none)"
)
# The range numpy and torch both accept as a seed.
seed = _bounded(non_negative_int, lambda n: n <= 2**32 - 1, "must be at most 2**32 - 1", "a seed")
positive_float = _bounded(_finite, lambda x: x > 0, "must be a number above zero", "x > 0")
non_negative_float = _bounded(
    _finite, lambda x: x >= 0, "must be zero or more", "x >= 0 (a length penalty; 0 is none)"
)
probability = _bounded(_finite, lambda x: 0 <= x <= 1, "must lie between 0 and 1", "0 <= x <= 1")
# A share that must leave something on both sides (a validation fraction).
open_fraction = _bounded(
    _finite, lambda x: 0 < x < 1, "must lie strictly between 0 and 1", "0 < x < 1"
)
# Upper bounds where a larger value only exhausts memory or time (or overflows float32).
learning_rate = _bounded(
    _finite, lambda x: 0 < x <= 10, "must lie above 0 and at most 10", "0 < x <= 10"
)
beam_size = _bounded(
    positive_int, lambda n: n <= 100, "must be at most 100", "1 <= n <= 100 (1: greedy)"
)
scene_count = _bounded(
    positive_int, lambda n: n <= 1_000_000, "must be at most 1,000,000", "1 <= n <= 1,000,000"
)
train_scene_count = _bounded(
    scene_count, lambda n: n >= 2, "must be at least 2", "2 <= n <= 1,000,000"
)
resamples = _bounded(positive_int, lambda n: n >= 2, "must be at least 2", "n >= 2 (a bootstrap)")
held_out_fraction = _bounded(
    _finite, lambda x: 0 <= x < 1, "must lie in [0, 1)", "0 <= x < 1 (0: hold nothing out)"
)
sample_count = _bounded(
    positive_int, lambda n: n <= 10_000, "must be at most 10,000", "1 <= n <= 10,000"
)
iterations = _bounded(
    positive_int, lambda n: n <= 100_000, "must be at most 100,000", "1 <= n <= 100,000"
)
port = _bounded(
    non_negative_int, lambda n: n <= 65535, "must be at most 65535", "0 (a free port) .. 65535"
)
# A perturbation budget in pixel levels of 255.
pixel_level = _bounded(
    _finite, lambda x: 0 < x <= 255, "must lie above 0 and at most 255", "0 < x <= 255"
)
# A multiplier per epoch; 1 is no decay.
decay_factor = _bounded(
    _finite, lambda x: 0 < x <= 1, "must lie above 0 and at most 1", "0 < x <= 1"
)


def _path_type(parse):
    """A path type whose system errors (an unknown `~user`, a name too long for the file
    system) are refused as the option's error, not raised."""

    def check(text: str):
        try:
            return parse(text)
        except RuntimeError:  # Path.expanduser: no home folder for `~user`
            raise argparse.ArgumentTypeError(f"cannot expand the ~ in {text!r}") from None
        except OSError as error:
            raise argparse.ArgumentTypeError(f"{text!r}: {error.strerror}") from None

    check.__name__, check.__doc__ = parse.__name__, parse.__doc__
    return check


@_path_type
def existing_file(text: str) -> Path:
    """A path (`~` expanded) that names an existing regular file."""
    path = Path(text).expanduser()
    if not text:
        raise argparse.ArgumentTypeError("expected a file name, got an empty string")
    if not path.exists():
        raise argparse.ArgumentTypeError(f"file not found: {path}")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{path} is not a regular file")
    return path


@_path_type
def existing_folder(text: str) -> Path:
    """A path (`~` expanded) that names an existing folder."""
    path = Path(text).expanduser()
    if not text:
        raise argparse.ArgumentTypeError("expected a folder name, got an empty string")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"folder not found: {path}")
    return path


def _need_folder(path: Path) -> None:
    """Check that folder `path` is there or can be made (no file at its place or above it,
    its nearest existing folder writable), and note it for `OneLineParser.parse_args`."""
    for place in (path, *Path(os.path.abspath(path)).parents):
        if not place.exists():
            continue
        if not place.is_dir():
            raise argparse.ArgumentTypeError(
                f"{path} exists and is not a folder"
                if place == path
                else f"cannot create folder {path}: {place} is not a folder"
            )
        if not os.access(place, os.W_OK | os.X_OK):
            raise argparse.ArgumentTypeError(f"folder {place} is not writable")
        break
    _needed_folders.append(path)


@_path_type
def output_folder(text: str) -> Path:
    """A folder to write into (`~` expanded): made when missing (once every option is valid),
    refused when it is a file or cannot be written, so a long run does not fail at its first
    write."""
    path = Path(text).expanduser()
    if not text:
        raise argparse.ArgumentTypeError("expected a folder name, got an empty string")
    _need_folder(path)
    return path


@_path_type
def build_folder(text: str) -> Path:
    """A folder a build puts in place when complete (`~` expanded): refused when it is a file,
    its parent made and writable. The folder itself is not made here, so a build that is
    killed leaves nothing at its name."""
    path = Path(text).expanduser()
    if not text:
        raise argparse.ArgumentTypeError("expected a folder name, got an empty string")
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} exists and is not a folder")
    _need_folder(Path(os.path.abspath(path)).parent)
    return path


@_path_type
def output_file(text: str) -> Path:
    """A file to write (`~` expanded): not a folder, its parent folder made and writable."""
    path = Path(text).expanduser()
    if not text or text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"expected a file name, got {text!r}")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder, not a file")
    _need_folder(path.parent)
    return path


def output_file_with_suffix(*suffixes: str):
    """An `output_file` whose name must end in one of `suffixes` (".png", ".html")."""

    def parse(text: str) -> Path:
        path = output_file(text)
        if path.suffix.lower() not in suffixes:
            wanted = f"{path} must end in {' or '.join(suffixes)}"
            raise argparse.ArgumentTypeError(
                f"{wanted}, not {path.suffix!r}"
                if path.suffix
                else f"{wanted} (a name that starts with a dot has no suffix)"
                if path.name.startswith(".")
                else f"{wanted}; it has no suffix"
            )
        return path

    parse.__name__ = "output_file"
    return parse


def checkpoint_every(text: str) -> str:
    """`30s`, `5min`, `1h` or `200it` (vislab.run_guard.CheckpointEvery), kept as written."""
    from vislab.run_guard import CheckpointEvery

    try:
        CheckpointEvery.parse(text)
    except InvalidInputError as error:
        reason = str(error).removeprefix(f"--checkpoint-every {text!r}: ")
        raise argparse.ArgumentTypeError(reason) from None
    return text


def host(text: str) -> str:
    """An address to listen on; an empty one (every interface, to uvicorn) must be said as
    0.0.0.0."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "an empty address would listen on every interface; give 0.0.0.0 to mean that"
        )
    return text.strip()


def device(text: str) -> str:
    """`cpu`, `cuda` or `cuda:N`, refused when this machine cannot run it (the one device
    check, vislab.runs.check_device)."""
    from vislab.runs import check_device

    try:
        return str(check_device(text.strip().lower()))
    except InvalidInputError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--device ")) from error


def class_name_or_index(text: str) -> str:
    """A class given as a name or an ASCII index; the classifier resolves it later."""
    name = text.strip()
    if not name:
        raise argparse.ArgumentTypeError("expected a class name or index, got an empty string")
    if name.isdigit() and not name.isascii():
        raise argparse.ArgumentTypeError(f"{text!r} is not a class index (use the digits 0-9)")
    return name
