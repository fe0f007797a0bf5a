"""A user's clone has nothing beside it: no project file reads the developers' folder beside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHECKED = ("src", "tests", "benchmarks", "scripts", "Makefile", ".ci")
# The developers' folder is `shared` beside the clone: `..` + `/shared`, `shared` + `/reference`,
# or a path built as `... / NAME`. Spelled in pieces so this file does not match itself.
NAME = "shared"
OUTSIDE = re.compile(rf"\.\./{NAME}|{NAME}/reference|/\s*[\"']{NAME}[\"']")


def _tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--", *CHECKED],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [REPO / name for name in listed]


def test_no_tracked_file_reads_the_folder_beside_the_clone():
    files = _tracked_files()
    assert len(files) > 100  # the search really covered the tree
    offenders = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary data (npz, safetensors) holds no paths
        offenders += [
            f"{path.relative_to(REPO)}:{number}: {line.strip()}"
            for number, line in enumerate(text.splitlines(), start=1)
            if OUTSIDE.search(line)
        ]
    assert offenders == []


def test_the_pattern_finds_what_it_is_meant_to_find():
    for line in (
        'REFERENCE = REPO.parent / "' + NAME + '" / "reference"',
        "np.load('../" + NAME + "/reference/gan-checks.npz')",
        "see " + NAME + "/reference/imagenet_val_25.npz",
    ):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search("two processes shared the machine")
