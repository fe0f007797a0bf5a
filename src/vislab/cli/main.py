"""Entry point of the `vislab` command: builds the parser and turns errors into one sentence.

Each command module (`info`, `data`, `caption`, ...) has `register(groups)`, where `groups`
maps a group name ("data", "caption", "explain", "gan") to its argparse sub-parsers, and
sets `handler=` on the parsers it adds. A handler takes the parsed arguments and returns an
exit code (or None for 0).

Exit codes: 0 done, 1 an error (one sentence on stderr), 2 a usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import sys
import tempfile
import traceback
from pathlib import Path

from vislab import __version__
from vislab.cli import caption, caption_eval, data, demo, explain, gan, info, serve
from vislab.cli.arguments import OneLineParser, remove_made_folders
from vislab.errors import RunInterrupted, VislabError

GROUPS = {
    "data": "build and inspect data sets and the shared Fashion-MNIST CNN",
    "caption": "train, sample and evaluate image captioners",
    "explain": "saliency maps, fooling images and class visualization",
    "gan": "train, sample and evaluate GANs",
}
# Modules whose register() adds commands; order is the --help order.
COMMAND_MODULES = (info, data, caption, caption_eval, explain, gan, demo, serve)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="vislab",
        description="Image captioning, classifier explanations and GANs "
        "(CS231n Assignment 3) on a laptop CPU.",
    )
    parser.add_argument("--version", action="version", version=f"vislab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    groups = {"": commands}
    for name, help_text in GROUPS.items():
        group = commands.add_parser(name, help=help_text, description=help_text)
        group.set_defaults(handler=lambda args, group=group: group.print_help() or 2)
        groups[name] = group.add_subparsers(title="commands", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(groups)
    return parser


def _log_folder() -> Path:
    """Where crash tracebacks go: $VISLAB_LOG_DIR, else ~/.cache/vislab/logs, else /tmp."""
    if os.environ.get("VISLAB_LOG_DIR"):
        return Path(os.environ["VISLAB_LOG_DIR"]).expanduser()
    return Path.home() / ".cache" / "vislab" / "logs"


def _write_traceback() -> Path | None:
    """Write the current exception's traceback to a new log file; None if nowhere is writable."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = traceback.format_exc()
    for folder in (_log_folder(), Path(tempfile.gettempdir()) / "vislab-logs"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f"error-{stamp}-", suffix=".txt", dir=folder)
            with os.fdopen(handle, "w", encoding="utf-8") as log:
                log.write(text)
            return Path(name)
        except OSError:
            continue
    return None


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _describe(error: BaseException) -> str:
    """One sentence for an error vislab did not expect: what failed and where, if a file."""
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror}"
    if isinstance(error, MemoryError):
        return "out of memory; try a smaller --batch-size or fewer images"
    return f"unexpected {type(error).__name__}: {_one_line(error)}"


def _close_progress_bars() -> None:
    """Close the progress bars an error cut short, so that its sentence starts a line."""
    from tqdm import tqdm

    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()


def _fail(message: str, code: int = 1) -> int:
    _close_progress_bars()
    print(f"vislab: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    code = _run(handler, args)
    if code != 0:
        remove_made_folders()
    return code


def _run(handler, args) -> int:
    """The command's exit code; every failure is one line on stderr."""
    try:
        code = handler(args)
    except RunInterrupted as error:
        _close_progress_bars()
        print(f"vislab: {_one_line(error)}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        _close_progress_bars()
        print("vislab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1  # the reader of our output went away (`vislab info | head`)
    except VislabError as error:
        return _fail(_one_line(error))
    except Exception as error:  # anything else is a bug or the system: never a traceback
        log = _write_traceback()
        where = f"; the full traceback is in {log}" if log else ""
        return _fail(f"{_describe(error)}{where}")
    return 0 if code is None else int(code)


if __name__ == "__main__":
    raise SystemExit(main())
