"""README's file map matches the tree: a line for every module, a file for every line."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def file_map() -> set[str]:
    """The paths (or globs) the README's file-map table starts its rows with."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([^`]+)` [|,]", readme, flags=re.M))


def test_every_source_module_has_a_line_in_the_file_map():
    modules = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "src" / "vislab").rglob("*.py")
        if path.name != "__init__.py"
    }
    assert sorted(modules - file_map()) == []


def test_every_line_of_the_file_map_names_something_that_exists():
    assert sorted(entry for entry in file_map() if not any(ROOT.glob(entry))) == []
