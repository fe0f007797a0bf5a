"""Mutation score per package from mutmut's results, recorded through results.py.

    python benchmarks/mutation_score.py [WORKSPACE ...] [--note TEXT] [--sampled PACKAGE=N ...]

Each WORKSPACE is a folder where `mutmut run` ran (the repository root after `make mutation`,
whose mutants/ it reads; by default "."); a mutant run again in a later workspace (e.g. the
survivors, rerun after new tests) takes its later result. Mutants are grouped into the four
packages of the scope in pyproject.toml's [tool.mutmut]; a survivor whose diff matches a known
equivalent pattern is listed with the reason, every other survivor is listed as not killed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import report  # noqa: E402

PACKAGES = {
    "vislab.numpy_nn.": "numpy_nn",
    "vislab.captioning.numpy_beam_search.": "decoding",
    "vislab.captioning.transformer_decoding.": "decoding",
    "vislab.gan.": "gan",
    "vislab.explain.": "explain",
}
# (pattern on the mutated line, reason the mutant cannot change any result), checked by hand
# against each survivor of the last run; a pattern names the lines it was written for.
EQUIVALENT = [
    (r"reshape\([^)]*-2[,)]", "numpy reads any negative size as the one unknown dimension"),
    (
        r"device=None|\.to\(None\)|^device = None$|\.to\(dtype=dtype\)|dtype=torch\.\w+, \)"
        r"|torch\.(arange|as_tensor)\(\w+, \)",
        "a device argument: equivalent on the CPU the tests run on (a CUDA run would tell)",
    ),
    (
        r"(torch|np)\.full\(.*(model\._\w+|max_iterations), (dtype=None|device=|\))",
        "full() infers int64 from the integer fill value",
    ),
    (
        r"^(totals|lengths|done) = torch\.(full|zeros)\((?!.*dtype=torch)",
        "float32 zeros and -inf are exact, and the first sum with the float64 log-probabilities"
        " is float64",
    ),
    (r"^lengths = torch\.zeros\(B, ", "(B,) broadcasts to (N, B) at the first step"),
    (r'float\("-INF"\)', "float() reads -INF as -inf"),
    (r'kind="STABLE"', 'numpy reads "STABLE" as "stable"'),
    (
        r"topk\(B, \)|argsort\(-ranked, kind=\"stable\"",
        "the default last axis is axis 1 of 2-D scores",
    ),
    (
        r"\[banned_rows, banned_words\] = None|candidates\[finished\] = None",
        "NaN sorts after every finite candidate, as -inf does, and the final rank maps it to -inf",
    ),
    (
        r"^None, scores / np\.maximum",
        "np.where(None, ...) ranks every beam -inf, and the beams are kept sorted by this rank:"
        " the first is the best either way",
    ),
    (r"astype\(None\)", "astype(None) is float64"),
    (r"np\.asarray\(\w, (dtype=None)?\)", "the other side is float64, which promotes this one"),
    (r"\.astype\(.*copy=(None|True)\)|astype\(x\.dtype, \)", "a copy or not of the result"),
    (
        r"argsort\(ids, (kind=None|kind=\"STABLE\"|\))",
        "the order of equal ids changes the sums per word only up to rounding"
        ' (numpy also accepts "STABLE")',
    ),
    (r"reduceat\(.*starts, \)", "reduceat's axis defaults to 0"),
    (
        r"out=None|np\.(sqrt|divide|add)\(\w+, \w*, ?\)|np\.sqrt\(v, \)",
        "only where the result is stored (a fresh array instead of a buffer)",
    ),
    (r"np\.array\(f\(x\), \)", "np.array copies by default"),
    (r"logger\.", "a log message's arguments"),
    (r"verbose: bool = (True|False)", "the flag only logs (the course's no-op)"),
    (
        r"op_flags=None|\[\"multi_index\"\], \)",
        "the loop writes x[index] itself; the iterator only yields indices",
    ),
    (r"np\.where\(x > 0", "at x = 0 both branches give 0.5"),
    (r"view\(steps, 1\)", "(steps, 1) broadcasts as (1, steps, 1)"),
    (r"Adam\(model\.parameters\(\), betas", "Adam's default lr is the course's 1e-3"),
    (r"range\(max_iterations \+ 2\)", "the loop breaks at iteration max_iterations"),
    (r"argmax\(dim=None\)", "one image: the flat argmax is its class"),
    (r'pop\("progress", None\)', "None and False both turn the progress bar off"),
    (r'desc="XX', "the progress bar's label"),
    (r"max_iterations, None, start\)", "targeted=None is falsy, as False"),
    (
        r"cross_entropy\(scores, y\[active\], \)",
        "the mean's gradient has the sum's signs, and PGD steps by signs",
    ),
]


def results(workspace: Path) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "True"],
        cwd=workspace, capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.findall(r"^\s+(\S+): (.+)$", done.stdout, flags=re.M)
    return {name: status.strip() for name, status in found}


def mutated_line(workspace: Path, name: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", name],
        cwd=workspace, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return "\n".join(line[1:].strip() for line in done.stdout.splitlines()
                     if line.startswith("+ "))  # fmt: skip


def package_of(name: str) -> str:
    return next((package for prefix, package in PACKAGES.items() if name.startswith(prefix)), "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workspaces", nargs="*", type=Path, default=[Path(".")])
    parser.add_argument("--note", default="")
    parser.add_argument("--sampled", action="append", default=[], help="PACKAGE=N: a sample of N")
    args = parser.parse_args()
    sampled = dict(item.split("=") for item in args.sampled)
    merged: dict[str, tuple[str, Path]] = {}  # a later workspace's rerun of a mutant wins
    for workspace in args.workspaces:
        for name, status in results(workspace).items():
            if status != "not checked" or name not in merged:
                merged[name] = (status, workspace)
    counts: dict[str, Counter] = {}
    equivalent, open_survivors = [], []
    for name, (status, workspace) in sorted(merged.items()):
        package = package_of(name)
        counts.setdefault(package, Counter())[status] += 1
        if status != "survived":
            continue
        line = mutated_line(workspace, name)
        reason = next((why for pattern, why in EQUIVALENT if re.search(pattern, line)), None)
        target = equivalent if reason else open_survivors
        target.append(f"| {package} | `{name}` | `{line[:80]}` | {reason or 'not killed'} |")
    rows = [
        "| package | mutants run | killed | survived | equivalent | killed of non-equivalent |"
        " not run |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for package, count in sorted(counts.items()):
        ran = count["killed"] + count["survived"] + count["timeout"]
        same = sum(1 for row in equivalent if row.startswith(f"| {package} |"))
        score = (count["killed"] + count["timeout"]) / max(ran - same, 1)
        label = f"{package} (sample of {sampled[package]})" if package in sampled else package
        killed = count["killed"] + count["timeout"]
        rows.append(
            f"| {label} | {ran} | {killed} | {count['survived']} | {same} | {score:.1%} |"
            f" {count['not checked']} |"
        )
    body = "\n".join(rows)
    if equivalent or open_survivors:
        body += "\n\nSurvivors:\n\n| package | mutant | mutated line | why it survives |\n"
        body += "| --- | --- | --- | --- |\n" + "\n".join(open_survivors + equivalent)
    report("Mutation score (mutmut 3)", body, benchmark="mutation_score", noisy=False,
           note=args.note)  # fmt: skip


if __name__ == "__main__":
    main()
