"""The demo's explanation-quality sections at the tiny budget: every part, every figure."""

from __future__ import annotations

import pytest
import torch

from vislab.demo.explain_quality import run_section

pytestmark = pytest.mark.slow


def test_tiny_budget_makes_every_section_with_figures(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    sections = run_section("quality", budget="tiny", fresh=True)
    titles = [s.title for s in sections]
    assert titles == [
        "Sanity checks of the explanations",
        "Faithfulness of the explanations",
        "Robustness to adversarial perturbations",
        "Class visualizations people can recognise",
    ]
    assert all(s.error is None for s in sections), [s.error for s in sections]
    for section in sections:
        for figure in section.figures:
            assert figure.path.is_file() and figure.caption
    sanity = sections[0].tables[0]
    control = next(row for row in sanity.rows if row[0] == "edge detector (control)")
    assert control[1:-1] == ["1.00"] * (len(control) - 2)
    # A second run of the same budget reuses the sections and their figures.
    stamps = {f.path: f.path.stat().st_mtime_ns for s in sections for f in s.figures}
    again = run_section("quality", budget="tiny")
    assert [s.title for s in again] == titles and again[2].tables[0].rows == sections[2].tables[
        0
    ].rows
    assert {f.path: f.path.stat().st_mtime_ns for s in again for f in s.figures} == stamps
