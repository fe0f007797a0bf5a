"""The main job: run every task on built-in data and write one HTML report.

Each step is a section module's `run_section(out_dir, budget, fresh) -> list[Section]`
writing into its own sub-folder. Steps reuse what an earlier (possibly interrupted) run built
there, so running the demo again continues where it stopped. A step that fails becomes a section
with the error, its traceback goes to `logs/`, and the other steps still run.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vislab.atomic_files import atomic_write_text
from vislab.demo import captioning, explain, explain_quality, fmnist_cnn, gan
from vislab.demo.budgets import budget_for
from vislab.report import Section, Table, write_report
from vislab.system_info import package_versions, torch_summary

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoStep:
    """A named step: the section function it calls and the folder it writes."""

    title: str
    run: Callable[..., list[Section]]
    folder: str


STEPS = (
    DemoStep("Fashion-MNIST CNN", fmnist_cnn.run_section, "fmnist_cnn"),
    DemoStep("Image captioning", captioning.run_section, "captioning"),
    DemoStep("Explaining classifiers", explain.run_section, "explain"),
    DemoStep("Explanation quality", explain_quality.run_section, "explain_quality"),
    DemoStep("GANs", gan.run_section, "gan"),
)


def _run_step(step: DemoStep, out_dir: Path, budget: str, fresh: bool) -> list[Section]:
    """Run one step; a failure becomes an error section and a traceback file in logs/."""
    try:
        return step.run(out_dir / step.folder, budget=budget, fresh=fresh)
    except Exception as error:  # a failed step must not stop the others
        log = out_dir / "logs" / f"{step.folder}.txt"
        atomic_write_text(log, traceback.format_exc())
        logger.warning("demo step %r failed: %s", step.title, error)
        message = f"{type(error).__name__}: {error} (traceback in logs/{log.name})"
        return [Section(title=step.title, error=message)]


def run_demo(
    out_dir: str | Path,
    budget: str = "quick",
    fresh: bool = False,
    steps: tuple[DemoStep, ...] = STEPS,
    on_step: Callable[[DemoStep], None] | None = None,
) -> Path:
    """Run the demo steps into `out_dir` and write `out_dir/report.html`; return its path."""
    note = budget_for(budget).note
    # Absolute from here on: the steps hand the report paths under out_dir, and the report
    # resolves them against its own folder, so a relative out_dir would be joined twice.
    out_dir = Path(out_dir).expanduser().resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    sections: list[Section] = []
    timings: list[list[object]] = []
    for step in steps:
        if on_step is not None:
            on_step(step)
        start = time.perf_counter()
        step_sections = _run_step(step, out_dir, budget, fresh)
        elapsed = time.perf_counter() - start
        status = "failed" if any(s.error for s in step_sections) else "ok"
        timings.append([step.title, status, round(elapsed, 1)])
        sections += step_sections
    sections.append(_about_section(timings, note))
    return write_report(
        sections,
        out_dir / "report.html",
        title="vislab demo report",
        subtitle=f"Captioning, explanations and GANs on built-in data; {note}.",
    )


def _about_section(timings: list[list[object]], note: str) -> Section:
    versions = package_versions() | torch_summary()
    total = sum(row[2] for row in timings)
    failed = any(row[1] == "failed" for row in timings)
    timings = [*timings, ["all steps", "failed" if failed else "ok", round(total, 1)]]
    return Section(
        title="Timings and versions",
        intro=f"This run took {total / 60:.1f} minutes in all and used {note}. Steps that "
        "found their results from an earlier run reused them, so their time here is short.",
        tables=[
            Table("Time per step (seconds)", ["step", "status", "seconds"], timings),
            Table("Versions", ["component", "version"], [[k, v] for k, v in versions.items()]),
        ],
    )
