"""Byte-level fuzzing of every reader (hypothesis), in a subprocess under a 2 GB address-space
limit and a time limit: only vislab's own errors may come out (see fuzz_worker.py).

The fast run tries FAST_EXAMPLES inputs per seed file and reader; the slow-marked run 20x more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TARGETS = ["idx", "hdf5", "vocabulary", "annotations", "images", "checkpoints", "npz"]
CANARIES = ["canary-error", "canary-memory"]  # readers that fail on purpose
FAST_EXAMPLES = 12
SLOW_EXAMPLES = 250
pytestmark = pytest.mark.xdist_group("robustness-fuzz")  # one worker builds the seeds once


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    sys.path.insert(0, str(HERE))
    try:
        from seeds import write_seeds
    finally:
        sys.path.remove(str(HERE))
    folder = tmp_path_factory.mktemp("seeds")
    write_seeds(folder)
    return folder


def _fuzz(seeds: Path, work: Path, examples: int, timeout: int) -> dict[str, dict]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, str(HERE / "fuzz_worker.py"), str(seeds), str(work), str(examples)]
    done = subprocess.run(
        [*command, *TARGETS, *CANARIES],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    reports = {}
    for line in done.stdout.splitlines():
        if line.startswith('{"target"'):
            report = json.loads(line)
            reports[report["target"]] = report
    assert set(reports) == {*TARGETS, *CANARIES}, (
        f"the worker stopped early:\n{done.stderr[-4000:]}"
    )
    return reports


@pytest.fixture(scope="module")
def fast_reports(seeds, tmp_path_factory) -> dict[str, dict]:
    return _fuzz(seeds, tmp_path_factory.mktemp("fuzz"), FAST_EXAMPLES, timeout=300)


@pytest.mark.parametrize("target", TARGETS)
def test_reader_raises_only_vislab_errors(fast_reports, target):
    report = fast_reports[target]
    assert report["ok"], f"{target}: an input made the reader fail badly:\n{report['detail']}"


def test_the_harness_catches_foreign_errors_and_memory_exhaustion(fast_reports):
    assert not fast_reports["canary-error"]["ok"]
    assert "KeyError: 'a canary reading" in fast_reports["canary-error"]["detail"]
    assert not fast_reports["canary-memory"]["ok"]
    assert "MemoryError" in fast_reports["canary-memory"]["detail"]


@pytest.mark.slow
def test_readers_under_a_longer_fuzz(seeds, tmp_path):
    reports = _fuzz(seeds, tmp_path, SLOW_EXAMPLES, timeout=3000)
    failed = {name: r["detail"] for name, r in reports.items() if not r["ok"] and name in TARGETS}
    assert not failed, "\n\n".join(f"{name}:\n{detail}" for name, detail in failed.items())
