"""The explain part of the demo: a tiny-budget run writes every figure and reuses them."""

from __future__ import annotations

import json

from vislab.demo import explain as demo_module
from vislab.demo.budgets import BUDGETS
from vislab.demo.explain import run_section


def test_tiny_demo_writes_figures_and_reuses_them(tmp_path):
    sections = run_section(tmp_path, budget="tiny")
    assert [s.title for s in sections] == ["Saliency maps", "Fooling images", "Class visualization"]
    assert all(s.error is None for s in sections), [s.error for s in sections]
    figures = [f.path for s in sections for f in s.figures]
    assert len(figures) >= 6 and all(path.is_file() for path in figures)
    assert all(f.caption for s in sections for f in s.figures)
    assert any("tiny budget" in note for s in sections for note in s.notes)
    before = {path: path.stat().st_mtime_ns for path in figures}
    again = run_section(tmp_path, budget="tiny")
    assert {f.path: f.path.stat().st_mtime_ns for s in again for f in s.figures} == before
    assert [t.rows for s in again for t in s.tables] == [t.rows for s in sections for t in s.tables]


def test_the_demo_always_has_the_course_validation_images(tmp_path):
    demo = demo_module._Demo(tmp_path, BUDGETS["tiny"].explain, fresh=False)
    items, kind = demo.images(2)
    assert kind == "ImageNet validation images"
    assert [(i.name, i.labels) for i in items] == [("hay", (958,)), ("quail", (85,))]


def test_figures_of_another_budget_are_rebuilt(tmp_path):
    made = []
    demo = demo_module._Demo(tmp_path, BUDGETS["tiny"].explain, fresh=False)
    assert demo.fresh  # nothing built yet
    note = BUDGETS["tiny"].explain.note
    (tmp_path / "results.json").write_text(json.dumps({"budget": note}))
    (tmp_path / "figure.png").write_bytes(b"png")
    same = demo_module._Demo(tmp_path, BUDGETS["tiny"].explain, fresh=False)
    other = demo_module._Demo(tmp_path, BUDGETS["quick"].explain, fresh=False)
    assert not same.fresh and other.fresh
    same.figure("figure.png", made.append)
    other.figure("figure.png", made.append)
    assert made == [tmp_path / "figure.png"]
