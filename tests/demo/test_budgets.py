"""The demo's one budgets table: every name has a row for every section; others are refused."""

from __future__ import annotations

import dataclasses

import pytest

from vislab.demo.budgets import BUDGET_NAMES, BUDGETS, budget_for


def test_every_budget_has_every_section():
    assert BUDGET_NAMES == ("tiny", "quick", "full")
    for name in BUDGET_NAMES:
        row = budget_for(name)
        assert row is BUDGETS[name] and row.note
        for section in dataclasses.fields(row)[1:]:
            assert getattr(row, section.name) is not None, (name, section.name)


def test_budgets_grow_from_tiny_to_full():
    tiny, quick, full = (BUDGETS[name] for name in BUDGET_NAMES)
    assert tiny.captioning.num_train < quick.captioning.num_train < full.captioning.num_train
    assert tiny.gan.num_train < quick.gan.num_train < full.gan.num_train
    assert tiny.explain.class_iterations < quick.explain.class_iterations
    assert tiny.captioning.options("rnn")["epochs"] < full.captioning.options("rnn")["epochs"]


def test_unknown_budget_names_the_choices():
    with pytest.raises(ValueError, match="unknown budget 'huge': choose one of tiny, quick, full"):
        budget_for("huge")
