"""Import boundaries: numpy_nn never imports torch; the three tasks never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "vislab"
TASKS = ("captioning", "explain", "gan")
# Packages below the tasks: they must not reach up into any task, the CLI or the demo.
LOWER = ("numpy_nn", "torch_nn", "datasets", "backbones", "report")


def imported_modules(package: str) -> dict[Path, set[str]]:
    """Every module name each file of src/vislab/<package> imports (absolute imports)."""
    found = {}
    for path in sorted((SRC / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[path] = names
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(SRC)} imports {name}"
        for path, names in imported_modules(package).items()
        for name in names
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


def test_numpy_nn_never_imports_torch():
    assert (SRC / "numpy_nn").is_dir()
    assert _offenders("numpy_nn", ("torch",)) == []


@pytest.mark.parametrize("task", TASKS)
def test_tasks_do_not_import_each_other(task):
    others = tuple(f"vislab.{other}" for other in TASKS if other != task)
    assert _offenders(task, others) == []


@pytest.mark.parametrize("package", LOWER)
def test_lower_layers_do_not_import_tasks(package):
    upper = tuple(f"vislab.{name}" for name in (*TASKS, "cli", "demo"))
    assert _offenders(package, upper) == []


def test_no_relative_imports_hide_from_these_checks():
    relative = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert relative == []
