"""The one writer of benchmark results: every run in history.jsonl, the current state in RESULTS.md.

A benchmark ends with

    from results import report
    report("GAN training step: vislab vs plain torch", body)   # body: markdown (tables, text)

`report(title, body, benchmark=None, noisy=None, note="")` prints the block, appends one JSON
line to `history.jsonl` and rewrites `RESULTS.md`:

- `benchmark` names the table this run replaces; by default the running script's file name
  (`bench_gan` for `benchmarks/bench_gan.py`). Give it when one script writes two tables.
- `noisy`: a run on an overloaded machine (1-minute load average above NOISY_LOAD_PER_CORE per
  core, by default) goes into the history only; pass True or False to decide yourself.
- `note`: a sentence shown above the body (what was unusual about this run).

A history line holds `benchmark`, `title`, `time` ("2026-11-28 15:47 UTC"), `machine`,
`load_average` ([1, 5, 15] minutes; null for runs from before it was recorded), `noisy`,
`note` and `body`. RESULTS.md shows, per benchmark (alphabetically), its latest run that is not
noisy. `python benchmarks/results.py` rewrites RESULTS.md from the history, e.g. after marking
a run noisy by hand. Blocks that an older copy of this module appended to RESULTS.md (below the
generated part) move into the history on the next write, so nothing is lost.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import platform
import re
import sys
from pathlib import Path

from vislab.atomic_files import atomic_write_text

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
HISTORY = HERE / "history.jsonl"
NOISY_LOAD_PER_CORE = 5.0  # a load of 10 on 2 cores made one step 90x slower
END_MARKER = "<!-- end of the generated tables: results.py rewrites everything above -->"
HEADER = f"""# Benchmark results

The current state: one table per benchmark, from its latest run on a machine that was not
overloaded (1-minute load average at most {NOISY_LOAD_PER_CORE:g} per core), with its date, machine
and load average. Every run, in order, is in [history.jsonl](history.jsonl), one JSON object a
line. `benchmarks/results.py` writes both files (its docstring has the API); do not edit this
one by hand.
"""
# Titles an older results.py wrote, mapped to the script that wrote them.
LEGACY_TITLES = {
    "Explain: saliency overhead": "bench_explain",
    "numpy captioning vs torch": "bench_numpy_captioning",
    "Transformer captioning: training step": "bench_transformer_captioning",
    "Distributed data parallel": "bench_distributed",
    "GAN training step": "bench_gan",
    "GAN sample quality": "gan_quality",
    "GAN quality": "gan_quality",
    "Caption quality": "caption_quality",
    "Attribution:": "bench_attribution",
    "Grid captioners": "bench_grid_captioning",
    "vislab serve": "bench_serve",
}
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d UTC) on (.+)$", re.M)


def machine_description() -> str:
    """One line naming the machine: CPU model, cores, torch version and threads."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if "model name" in line)
    except (OSError, StopIteration):
        pass
    parts = [cpu, f"{os.cpu_count()} cores", f"Python {platform.python_version()}"]
    try:
        import torch

        parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    except ImportError:
        pass
    return ", ".join(parts)


def report(
    title: str, body: str, benchmark: str | None = None, noisy: bool | None = None, note: str = ""
) -> dict:
    """Print a run's block, append it to history.jsonl and rewrite RESULTS.md; return the entry."""
    load = [round(value, 2) for value in os.getloadavg()]
    entry = {
        "benchmark": benchmark or Path(sys.argv[0]).stem,
        "title": title,
        "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_description(),
        "load_average": load,
        "noisy": load[0] > NOISY_LOAD_PER_CORE * (os.cpu_count() or 1) if noisy is None else noisy,
        "note": note,
        "body": body.strip(),
    }
    print(render_entry(entry))
    if entry["noisy"]:
        print(f"(load average {load[0]}: kept in {HISTORY.name} only, not in {RESULTS.name})")
    with _locked_history() as history:
        _move_legacy_blocks(history)
        history.write(json.dumps(entry) + "\n")
        history.flush()
        write_results(read_history())
    return entry


class _locked_history:
    """history.jsonl opened for appending, under an exclusive lock (benchmarks run in parallel)."""

    def __enter__(self):
        self.handle = open(HISTORY, "a", encoding="utf-8")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self.handle

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def read_history() -> list[dict]:
    """Every run so far, oldest first."""
    if not HISTORY.is_file():
        return []
    lines = HISTORY.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def render_entry(entry: dict) -> str:
    """One run as markdown: title, when/where/load line, the note, the body."""
    load = entry["load_average"]
    load_text = f"load average {load[0]:g}" if load else "load average not recorded"
    lines = [
        f"## {entry['title']}",
        "",
        f"`{entry['benchmark']}`: {entry['time']}, {load_text}, on {entry['machine']}",
        "",
    ]
    if entry.get("note"):
        lines += [entry["note"], ""]
    return "\n".join([*lines, entry["body"], ""])


def write_results(history: list[dict]) -> Path:
    """RESULTS.md: per benchmark, its latest quiet run (or its latest run, marked, if none)."""
    by_benchmark: dict[str, list[dict]] = {}
    for entry in history:
        by_benchmark.setdefault(entry["benchmark"], []).append(entry)
    blocks = [HEADER]
    for name in sorted(by_benchmark):
        runs = by_benchmark[name]
        quiet = [i for i, run in enumerate(runs) if not run["noisy"]]
        shown = quiet[-1] if quiet else len(runs) - 1
        block = render_entry(runs[shown])
        if not quiet:
            block += "\n**Every run of this benchmark so far was on an overloaded machine.**\n"
        later = len(runs) - 1 - shown
        if later:
            block += f"\n{later} later run(s) on an overloaded machine: history.jsonl only.\n"
        if shown:
            block += f"\n{shown} earlier run(s) in history.jsonl.\n"
        blocks.append(block)
    return atomic_write_text(RESULTS, "\n".join(blocks) + f"\n{END_MARKER}\n")


def parse_legacy_blocks(text: str) -> list[dict]:
    """History entries from markdown blocks in the old append-only format.

    A block is `## title`, optional paragraphs (the note), `<date> on <machine>`, the body.
    """
    entries = []
    for block in re.split(r"^## ", text, flags=re.M)[1:]:
        title, _, rest = block.partition("\n")
        stamp = _STAMP.search(rest)
        if stamp is None:
            continue
        key = next((k for prefix, k in LEGACY_TITLES.items() if title.startswith(prefix)), None)
        entries.append(
            {
                "benchmark": key or re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_"),
                "title": title.strip(),
                "time": stamp.group(1),
                "machine": stamp.group(2).strip(),
                "load_average": None,
                "noisy": False,
                "note": " ".join(rest[: stamp.start()].split()),
                "body": rest[stamp.end() :].strip(),
            }
        )
    return entries


def _move_legacy_blocks(history) -> None:
    """Blocks appended below the generated part of RESULTS.md go into the history."""
    if not RESULTS.is_file():
        return
    text = RESULTS.read_text(encoding="utf-8")
    _, marker, appended = text.partition(END_MARKER)
    for entry in parse_legacy_blocks(appended if marker else ""):
        history.write(json.dumps(entry) + "\n")
    history.flush()


if __name__ == "__main__":
    with _locked_history() as history:
        _move_legacy_blocks(history)
        write_results(read_history())
    print(f"wrote {RESULTS}")
