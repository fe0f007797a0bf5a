"""The captioning section of `vislab demo` on the tiny budget: files, tables, reuse."""

from __future__ import annotations

import json

import pytest

from vislab.captioning.captioners import CAPTIONERS
from vislab.captioning.metrics import METRIC_NAMES
from vislab.demo.budgets import BUDGETS
from vislab.demo.captioning import run_section

# About a minute on a busy 2-core machine (scenes, three models, beam search); the lead's
# demo test runs the same tiny budget end to end.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, run_section(out, budget="tiny")


def test_tiny_demo_section_references_files_that_exist(demo_run):
    out, sections = demo_run
    (section,) = sections
    assert section.error is None and section.title == "Image captioning"
    assert len(section.figures) == 3  # samples, loss curves, grounding
    for figure in section.figures:
        assert figure.path.is_file() and figure.path.stat().st_size > 1000
        assert out in figure.path.parents and figure.caption
    scores, budgets, truth = section.tables
    assert scores.header == ["captioner", *METRIC_NAMES]
    names = [row[0] for row in scores.rows]
    assert names[0] == "nearest-neighbour"
    for model in CAPTIONERS:  # every registered model, greedy and beam
        assert f"{model}, beam 1" in names and f"{model}, beam 3" in names
    assert [row[0] for row in budgets.rows] == list(CAPTIONERS)
    assert "tiny budget" in section.intro
    truth_rows = {(row[0], row[1]): row[2:] for row in truth.rows}
    assert ("attention-lstm, beam 1", "all") in truth_rows
    assert truth_rows[("the references", "all")][0] == 1.0  # references: class precision 1
    assert any("Faithfulness" in note for note in section.notes)


def test_second_run_reuses_data_checkpoints_and_scores(demo_run):
    out, _ = demo_run
    folder = out / "tiny"
    stamps = {
        p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.suffix in (".pt", ".h5", ".json")
    }
    (section,) = run_section(out, budget="tiny")
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    done = json.loads((folder / "rnn" / "done.json").read_text())
    assert done["options"] == BUDGETS["tiny"].captioning.options("rnn")
    assert section.tables[0].rows[0][0] == "nearest-neighbour"


def test_unknown_budget_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown budget"):
        run_section(tmp_path, budget="huge")
