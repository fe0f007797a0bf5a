"""Figures and tables of the explanation-quality studies: sanity curves, faithfulness,
robustness curves, judged class visualizations. Plain matplotlib Figures (no pyplot state)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from vislab.explain.faithfulness import FaithfulnessRow
from vislab.explain.robustness import RobustnessCurve
from vislab.explain.sanity import CONTROL, SanityResult


def sanity_figure(results: Sequence[SanityResult]) -> Figure:
    """One panel per model: rank correlation with the trained model's maps (y) as blocks are
    randomized from the top down (x); the control dashed."""
    figure = Figure(figsize=(6.4 * len(results), 4.6), layout="constrained")
    axes = figure.subplots(1, len(results), squeeze=False)[0]
    for axis, result in zip(axes, results, strict=True):
        x = np.arange(len(result.steps))
        for method, values in result.correlations.items():
            style = {"linestyle": "--", "color": "black"} if method == CONTROL else {"marker": "o"}
            flagged = " (flagged)" if method in result.flagged() else ""
            axis.plot(x, values, label=method + flagged, **style)
        axis.set_xticks(x, result.steps, rotation=40, ha="right", fontsize=8)
        axis.set_ylim(-0.3, 1.05)
        axis.axhline(0, color="grey", linewidth=0.5)
        axis.set_ylabel("Spearman rank correlation with the trained model's maps")
        axis.set_title(f"{result.model}: cascading randomization (top block first)", fontsize=10)
        axis.legend(fontsize=7, loc="lower left")
    return figure


def sanity_rows(result: SanityResult) -> list[list[str]]:
    """Table rows: method, correlation after each step, flagged."""
    flagged = set(result.flagged())
    return [
        [method, *(f"{v:.2f}" for v in values), "yes" if method in flagged else ""]
        for method, values in result.correlations.items()
    ]


def faithfulness_rows(rows: Sequence[FaithfulnessRow]) -> list[list[str]]:
    """Table rows: method, deletion AUC (vs random), insertion AUC (vs random), beats random."""
    return [
        [
            row.method,
            f"{row.deletion:.3f} ({-row.deletion_vs_random:+.3f})",
            f"{row.insertion:.3f} ({row.insertion_vs_random:+.3f})",
            "yes" if row.beats_random else "no",
        ]
        for row in rows
    ]


FAITHFULNESS_HEADER = [
    "method",
    "deletion AUC (vs random; lower is better)",
    "insertion AUC (vs random; higher is better)",
    "beats random on both",
]


def robustness_figure(curves: Sequence[RobustnessCurve]) -> Figure:
    """Accuracy (y) against the L-inf budget in pixel levels of 255 (x), one line per model."""
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axis = figure.subplots()
    for curve in curves:
        levels = [e * 255 for e in curve.epsilons]
        axis.plot(
            levels,
            curve.accuracy,
            marker="o",
            label=f"{curve.model} ({len(curve.fooled_at)} images)",
        )
    axis.set_xscale("symlog", linthresh=0.5)
    axis.set_xlabel("L-inf budget (pixel levels of 255)")
    axis.set_ylabel("accuracy, per-image worst case")
    axis.set_ylim(0, 1.02)
    axis.set_title("Untargeted PGD: accuracy against the budget", fontsize=10)
    axis.legend(fontsize=8)
    return figure


def judged_grid_figure(
    rows: Sequence[tuple[str, Sequence[Image.Image], Sequence[bool]]],
    class_labels: Sequence[str],
    heading: str,
) -> Figure:
    """A row of images per method, one column per class; each title says whether the judge
    named the intended class (rows: (method name, images, judged correct))."""
    columns = len(class_labels)
    figure = Figure(figsize=(max(1.7 * columns, 4.0), 2.0 * len(rows) + 0.4), layout="constrained")
    axes = figure.subplots(len(rows), columns, squeeze=False)
    for r, (method, images, verdicts) in enumerate(rows):
        for c, (image, verdict, label) in enumerate(
            zip(images, verdicts, class_labels, strict=True)
        ):
            axis = axes[r, c]
            array = np.asarray(image)
            axis.imshow(array, cmap="gray" if array.ndim == 2 else None, interpolation="nearest")
            mark = "judge: yes" if verdict else "judge: no"
            axis.set_title(f"{label}\n{mark}", fontsize=7, color="green" if verdict else "red")
            axis.set_xticks([])
            axis.set_yticks([])
            if c == 0:
                axis.set_ylabel(method, fontsize=8)
    figure.suptitle(heading, fontsize=10)
    return figure
