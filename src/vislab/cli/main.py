"""Entry point of the `vislab` command: builds the parser and turns errors into one sentence.

Each command module (`info`, `data`, `caption`, ...) has `register(groups)`, where `groups`
maps a group name ("data", "caption", "explain", "gan") to its argparse sub-parsers, and
sets `handler=` on the parsers it adds. A handler takes the parsed arguments and returns an
exit code (or None for 0).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from vislab import __version__
from vislab.errors import VislabError

GROUPS = {
    "data": "build and inspect data sets and the shared Fashion-MNIST CNN",
    "caption": "train, sample and evaluate image captioners",
    "explain": "saliency maps, fooling images and class visualization",
    "gan": "train, sample and evaluate GANs",
}
# Modules under vislab.cli whose register() adds commands; order is the --help order.
COMMAND_MODULES = ["info", "data", "caption", "caption_eval", "explain", "gan", "demo"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    for module_name in COMMAND_MODULES:
        importlib.import_module(f"vislab.cli.{module_name}").register(groups)
    return parser


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
    try:
        code = handler(args)
    except VislabError as error:
        print(f"vislab: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("vislab: interrupted; the last checkpoint is kept", file=sys.stderr)
        return 130
    return 0 if code is None else int(code)


if __name__ == "__main__":
    raise SystemExit(main())
