"""The explain part of the demo: a tiny-budget run writes every figure and reuses them."""

from __future__ import annotations

import json

from vislab.explain import demo as demo_module
from vislab.explain.demo import run_demo


def test_tiny_demo_writes_figures_and_reuses_them(tmp_path):
    sections = run_demo(tmp_path, budget="tiny")
    assert [s.title for s in sections] == ["Saliency maps", "Fooling images", "Class visualization"]
    assert all(s.error is None for s in sections), [s.error for s in sections]
    figures = [f.path for s in sections for f in s.figures]
    assert len(figures) >= 6 and all(path.is_file() for path in figures)
    assert all(f.caption for s in sections for f in s.figures)
    assert any("tiny budget" in note for s in sections for note in s.notes)
    before = {path: path.stat().st_mtime_ns for path in figures}
    again = run_demo(tmp_path, budget="tiny")
    assert {f.path: f.path.stat().st_mtime_ns for s in again for f in s.figures} == before
    assert [t.rows for s in again for t in s.tables] == [t.rows for s in sections for t in s.tables]


def test_without_the_reference_data_the_demo_uses_the_photos(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_module, "REFERENCE", tmp_path / "no-reference")
    demo = demo_module._Demo(tmp_path, demo_module.BUDGETS["tiny"], fresh=False)
    items, kind = demo.images(2)
    assert kind == "scikit-image photos" and [i.name for i in items] == ["chelsea", "coffee"]


def test_figures_of_another_budget_are_rebuilt(tmp_path):
    made = []
    demo = demo_module._Demo(tmp_path, demo_module.BUDGETS["tiny"], fresh=False)
    assert demo.fresh  # nothing built yet
    note = demo_module.BUDGETS["tiny"].note
    (tmp_path / "results.json").write_text(json.dumps({"budget": note}))
    (tmp_path / "figure.png").write_bytes(b"png")
    same = demo_module._Demo(tmp_path, demo_module.BUDGETS["tiny"], fresh=False)
    other = demo_module._Demo(tmp_path, demo_module.BUDGETS["quick"], fresh=False)
    assert not same.fresh and other.fresh
    same.figure("figure.png", made.append)
    other.figure("figure.png", made.append)
    assert made == [tmp_path / "figure.png"]
