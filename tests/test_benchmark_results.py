"""benchmarks/results.py: every run in the history, the latest quiet run per benchmark shown."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import results  # noqa: E402


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "RESULTS", tmp_path / "RESULTS.md")
    monkeypatch.setattr(results, "HISTORY", tmp_path / "history.jsonl")
    return tmp_path


def _history(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines()]


def test_a_run_replaces_its_table_and_a_noisy_run_goes_into_the_history_only(files):
    results.report("Speed", "| a |\n| 1.0x |", benchmark="bench_speed", noisy=False)
    results.report("Speed", "| a |\n| 0.9x |", benchmark="bench_speed", noisy=False)
    results.report("Speed", "| a |\n| 90x |", benchmark="bench_speed", noisy=True)
    results.report("Other", "other body", benchmark="bench_other", note="odd run")
    page = (files / "RESULTS.md").read_text()
    assert page.count("## Speed") == 1 and "0.9x" in page and "1.0x" not in page
    assert "90x" not in page and "1 later run(s) on an overloaded machine" in page
    assert "1 earlier run(s)" in page and "odd run" in page
    assert page.index("## Other") < page.index("## Speed")  # alphabetical by benchmark
    history = _history(files)
    assert [entry["body"][-6:] for entry in history][:3] == ["1.0x |", "0.9x |", " 90x |"]
    assert all(len(entry["load_average"]) == 3 and "cores" in entry["machine"] for entry in history)


def test_blocks_appended_in_the_old_format_move_into_the_history(files):
    results.report("Speed", "first", benchmark="bench_gan", noisy=False)
    with open(files / "RESULTS.md", "a") as handle:
        handle.write(
            "## GAN training step: vislab vs plain torch\n\nMeasured at load 10.\n\n"
            "2026-11-28 15:25 UTC on AMD EPYC, 2 cores\n\n| fc | 2593.5 |\n\n"
        )
    results.report("Other", "second", benchmark="bench_other", noisy=False)
    legacy = _history(files)[1]
    assert legacy["benchmark"] == "bench_gan" and legacy["time"] == "2026-11-28 15:25 UTC"
    assert legacy["note"] == "Measured at load 10." and legacy["body"] == "| fc | 2593.5 |"
    page = (files / "RESULTS.md").read_text()
    assert page.count("2593.5") == 1 and page.rstrip().endswith(results.END_MARKER)
