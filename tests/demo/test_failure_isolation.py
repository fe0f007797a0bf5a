"""The demo survives a failing step: it becomes an error section, its traceback goes to
logs/, and the steps after it still run and appear in the report (tiny fake steps through
`run_demo`'s `steps` argument, from a temporary working directory with a relative --out)."""

from __future__ import annotations

import re

from vislab.demo import DemoStep, run_demo
from vislab.report import Section, Table

calls: list[str] = []


def first_step(out_dir, budget, fresh):
    calls.append(f"first {budget} {fresh}")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "made.txt").write_text("first", encoding="utf-8")
    return [Section(title="First step", tables=[Table("numbers", ["n"], [[41]])])]


def failing_step(out_dir, budget, fresh):
    calls.append("failing")
    raise ValueError("planted failure in the second step")


def last_step(out_dir, budget, fresh):
    calls.append("last")
    return [Section(title="Last step", notes=["the last step ran after the failure"])]


STEPS = (
    DemoStep("First step", first_step, "first"),
    DemoStep("Failing step", failing_step, "second"),
    DemoStep("Last step", last_step, "third"),
)


def test_a_failed_step_is_an_error_section_with_a_traceback_and_the_others_run(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    calls.clear()
    report = run_demo("demo out", budget="tiny", fresh=True, steps=STEPS)
    assert report == tmp_path / "demo out" / "report.html"
    assert calls == ["first tiny True", "failing", "last"]

    page = report.read_text(encoding="utf-8")
    message = (
        "This step failed: ValueError: planted failure in the second step "
        "(traceback in logs/second.txt)"
    )
    assert page.count("This step failed") == 1 and message in page
    # The sections in order: the failed one between the two that ran, then the timings.
    markers = ('<td class="num">41</td>', message, "the last step ran after the failure",
               "<h2>Timings and versions</h2>")  # fmt: skip
    order = [page.index(text) for text in markers]
    assert order == sorted(order)

    log = (tmp_path / "demo out" / "logs" / "second.txt").read_text(encoding="utf-8")
    assert log.startswith("Traceback (most recent call last):")
    assert "in failing_step" in log and log.strip().endswith(
        "ValueError: planted failure in the second step"
    )
    assert sorted(p.name for p in (tmp_path / "demo out" / "logs").iterdir()) == ["second.txt"]
    assert (tmp_path / "demo out" / "first" / "made.txt").read_text(encoding="utf-8") == "first"

    statuses = re.findall(r"<td>(First step|Failing step|Last step|all steps)</td><td>(\w+)</td>",
                          page)  # fmt: skip
    assert statuses == [("First step", "ok"), ("Failing step", "failed"), ("Last step", "ok"),
                        ("all steps", "failed")]  # fmt: skip
