"""The folder tree is the architecture: import boundaries, no cycles, small files, mirrored tests.

numpy_nn never imports torch; the three tasks never import each other nor the demo; the layers
below the tasks never reach up; datasets (formats and readers) never runs a backbone; no module
imports another one through importlib; no two modules import each other, even through imports
hidden inside functions; no source file is over 400 lines; tests/ mirrors src/vislab/.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "vislab"
TESTS = ROOT / "tests"
MAX_LINES = 400
TASKS = ("captioning", "explain", "gan")
# Packages below the tasks: they must not reach up into any task, the CLI or the demo.
LOWER = ("numpy_nn", "torch_nn", "datasets", "backbones", "report")
# Test folders that cut across the source tree on purpose (hostile inputs for every reader
# and for the CLI).
CROSS_CUTTING_TESTS = ("robustness",)


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


@pytest.mark.parametrize("task", TASKS)
def test_tasks_do_not_import_the_demo(task):
    assert _offenders(task, ("vislab.demo",)) == []


@pytest.mark.parametrize("task", TASKS)
def test_tasks_return_results_and_only_the_demo_builds_report_sections(task):
    assert _offenders(task, ("vislab.report",)) == []


def test_datasets_never_import_backbones():
    assert _offenders("datasets", ("vislab.backbones",)) == []


def test_backbones_take_class_names_from_below_not_from_datasets():
    # The one exception trains the Fashion-MNIST CNN, so it reads the data set.
    offenders = _offenders("backbones", ("vislab.datasets",))
    assert offenders == ["backbones/fmnist_training.py imports vislab.datasets.mnist"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """vislab module -> the vislab modules it imports anywhere in its file (functions too).

    `from vislab.pkg import name` points at vislab.pkg.name when that is a module, else at
    the package; an import of vislab.pkg.mod does not count as one of vislab.pkg itself.
    """
    modules = {_module_name(path): path for path in SRC.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    targets.add(child if child in modules else node.module)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def test_the_cycle_finder_finds_a_cycle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules():
    assert import_cycles(import_graph()) == []


def test_no_module_is_imported_through_importlib():
    dynamic = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__"))
        )
    ]
    assert dynamic == []


def test_no_source_file_is_over_the_size_limit():
    long = {
        str(path.relative_to(SRC)): lines
        for path in SRC.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by concept (at most {MAX_LINES} lines)"


def test_test_folders_mirror_the_source_packages():
    unmatched = [
        str(folder.relative_to(TESTS))
        for folder in TESTS.rglob("*")
        if folder.is_dir()
        and folder.name not in ("__pycache__", "data")
        and any(folder.glob("test_*.py"))
        and not (SRC / folder.relative_to(TESTS)).is_dir()
        and folder.relative_to(TESTS).parts[0] not in CROSS_CUTTING_TESTS
    ]
    assert unmatched == []


def test_cli_tests_live_in_tests_cli():
    elsewhere = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("test_*cli*.py")
        if path.parent != TESTS / "cli"
        and path.relative_to(TESTS).parts[0] not in CROSS_CUTTING_TESTS
    ]
    assert elsewhere == []
