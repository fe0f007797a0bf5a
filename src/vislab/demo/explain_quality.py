"""The demo's explanation-quality sections: sanity checks, faithfulness, robustness and judged
class visualizations, each figure captioned. The `vislab explain sanity|robustness|judge`
commands build their HTML pages from the same section functions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import torch

from vislab.atomic_files import atomic_savefig, atomic_write_text
from vislab.backbones.classifier import ImageClassifier
from vislab.backbones.registry import load_backbone
from vislab.class_names import short_name
from vislab.demo.budgets import ExplainQualityBudget, budget_for
from vislab.explain.quality_figures import (
    FAITHFULNESS_HEADER,
    faithfulness_rows,
    judged_grid_figure,
    robustness_figure,
    sanity_figure,
    sanity_rows,
)
from vislab.explain.robustness import RobustnessCurve, robustness_curve, transfer_rate
from vislab.explain.sanity import FLAG_ABOVE
from vislab.explain.studies import (
    ExplanationStudy,
    JudgedVisualizations,
    course_images,
    explanation_study,
    fmnist_test_images,
    judged_class_visualizations,
)
from vislab.report import Figure, Section, Table

logger = logging.getLogger(__name__)
FMNIST_LADDER = (1, 2, 4, 8, 16, 32)  # L-inf budgets in pixel levels of 255
LITE0_LADDER = (0.25, 0.5, 1, 2, 4)
IMAGENET_CLASSES = (
    "tarantula", "goldfish", "hourglass", "gorilla", "stingray",
    "flamingo", "king penguin", "volcano", "lemon", "school bus",
)  # fmt: skip


def sanity_sections(out_dir: Path, studies: list[ExplanationStudy]) -> list[Section]:
    """The sanity-check curves and tables, and the faithfulness tables, of some studies."""
    path = atomic_savefig(sanity_figure([s.sanity for s in studies]), out_dir / "sanity.png")
    sanity_tables, faith_tables = [], []
    for study in studies:
        result = study.sanity
        images = len(next(iter(result.maps.values())))
        sanity_tables.append(
            Table(
                f"{result.model}, {images} images: mean Spearman correlation after each "
                f"randomization step; flagged when still above {FLAG_ABOVE} at the end "
                f"(sanity + faithfulness took {study.seconds:.0f} s).",
                ["method", *result.steps, "flagged"],
                sanity_rows(result),
            )
        )
        faith_tables.append(
            Table(
                f"{result.model}, {images} images: deletion and insertion AUC of the trained "
                "model's maps, each beside its difference from a random map's.",
                FAITHFULNESS_HEADER,
                faithfulness_rows(study.faithfulness),
            )
        )
    caption = (
        "Cascading randomization (Adebayo et al. 2018): each line is one method's rank "
        "correlation with its own maps on the trained model, as the blocks are re-initialised "
        "from the logits down (cumulatively). The dashed edge detector ignores the model and "
        "stays at 1.0; a method that explains the model falls towards 0."
    )
    return [
        Section(
            "Sanity checks of the explanations",
            "Do the maps depend on what the model learned?",
            figures=[Figure(path, caption)],
            tables=sanity_tables,
        ),
        Section(
            "Faithfulness of the explanations",
            "Deletion: pixels are blacked out most-important-first and the target probability "
            "is tracked (area under the curve: lower is better). Insertion: pixels are put back "
            "on a black image in the same order (higher is better). A random ranking is the "
            "baseline.",
            tables=faith_tables,
        ),
    ]


def robustness_section(
    out_dir: Path, curves: list[RobustnessCurve], transfer: tuple[int, float] | None
) -> Section:
    """The robustness curves, their table, and Lite0 -> Lite1 transfer (count, rate)."""
    path = atomic_savefig(robustness_figure(curves), out_dir / "robustness.png")
    rows = [[c.model, len(c.fooled_at), *(f"{a:.3f}" for a in c.accuracy)] for c in curves]
    width = max(len(c.accuracy) for c in curves)
    rows = [row + [""] * (width + 2 - len(row)) for row in rows]
    ladders = "; ".join(
        f"{c.model}: {', '.join(f'{e * 255:g}' for e in c.epsilons)}" for c in curves
    )
    notes = []
    if transfer is not None:
        count, rate = transfer
        notes.append(
            f"Transfer: of {count} Lite0 adversarial images (of images Lite1 classifies "
            f"correctly), {rate:.0%} also fool EfficientNet-Lite1."
        )
    curve = curves[0]
    return Section(
        "Robustness to adversarial perturbations",
        f"Untargeted L-inf PGD, {curve.iterations} steps of eps/4, {curve.restarts} restarts "
        "(the first from the clean image); an image counts as correct at a budget only if no "
        "restart at that or any smaller budget fooled it.",
        figures=[
            Figure(path, "Accuracy against the L-inf budget (pixel levels of 255), per model.")
        ],
        tables=[
            Table(
                f"Accuracy at each budget (levels of 255; {ladders}).",
                ["model", "images"] + [f"budget {i}" for i in range(width)],
                rows,
            )
        ],
        notes=notes,
    )


def visualization_section(
    out_dir: Path, judged: list[tuple[ImageClassifier, str, JudgedVisualizations]]
) -> Section:
    """Judged class visualizations: (model, judge name, result) per model."""
    figures, rows = [], []
    for model, judge, result in judged:
        labels = [short_name(model.class_names[t]) for t in result.targets]
        for s, seed in enumerate(result.seeds):
            part = slice(s * len(labels), (s + 1) * len(labels))
            grid = judged_grid_figure(
                [
                    ("course", result.course[part], result.course_hits[part]),
                    ("Fourier", result.fourier[part], result.fourier_hits[part]),
                ],
                labels,
                f"{model.name}, seed {seed}: judged by {judge}",
            )
            path = atomic_savefig(grid, out_dir / f"judged_{model.name}_seed{seed}.png", dpi=80)
            figures.append(
                Figure(
                    path,
                    f"Top: the course's method (pixels, L2, jitter, blur); bottom: the Fourier "
                    f"parameterisation; {model.name}, seed {seed}. Green titles: {judge}, a "
                    "network that did not make the images, names the intended class.",
                )
            )
        course, fourier = result.rate("course"), result.rate("fourier")
        rows.append([model.name, judge, len(result.course_hits), f"{course:.0%}", f"{fourier:.0%}"])
    return Section(
        "Class visualizations people can recognise",
        "The course's gradient ascent in pixel space beside a Fourier-domain parameterisation "
        "with decorrelated colour and random shift, scale and rotation at every step.",
        figures=figures,
        tables=[
            Table(
                "How often the judge names the intended class.",
                ["model", "judge", "images", "course", "Fourier"],
                rows,
            )
        ],
    )


def _studies(plan: ExplainQualityBudget) -> list[Section]:
    cnn = load_backbone("fmnist_cnn")
    X, y = fmnist_test_images(plan.fmnist_images)
    options = {"num_samples": plan.samples, "num_steps": plan.samples}
    studies = [explanation_study(cnn, X, y, plan.fmnist_methods, **options)]
    if plan.lite0_images:
        lite0 = load_backbone("efficientnet_lite0")
        X, y = course_images(lite0, plan.lite0_images)
        studies.append(explanation_study(lite0, X, y, plan.lite0_methods, **options))
    return studies


def _robustness(out_dir: Path, plan: ExplainQualityBudget) -> Section:
    cnn = load_backbone("fmnist_cnn")
    X, y = fmnist_test_images(plan.robust_fmnist_images)
    ladder = [e / 255 for e in FMNIST_LADDER]
    curves = [robustness_curve(cnn, X, y, ladder, 2, plan.attack_iterations)]
    if not plan.robust_lite0_images:
        return robustness_section(out_dir, curves, None)
    lite0, lite1 = load_backbone("efficientnet_lite0"), load_backbone("efficientnet_lite1")
    X, y = course_images(lite0, plan.robust_lite0_images)
    ladder = [e / 255 for e in LITE0_LADDER]
    curves.append(robustness_curve(lite0, X, y, ladder, 2, plan.attack_iterations))
    X1, _ = course_images(lite1, plan.robust_lite0_images)
    with torch.no_grad():
        fooled = (curves[1].fooled_at >= 0) & (lite1(X1).argmax(1) == y)
    transfer = None
    if fooled.any():
        rate = transfer_rate(lite0, lite1, curves[1].adversarial[fooled], y[fooled])
        transfer = (int(fooled.sum()), rate)
    return robustness_section(out_dir, curves, transfer)


def _visualizations(out_dir: Path, plan: ExplainQualityBudget) -> Section:
    cnn, fmnist_judge = load_backbone("fmnist_cnn"), load_backbone("fmnist_judge")
    iterations = (plan.course_iterations, plan.fourier_iterations)
    judged = [
        (
            cnn,
            "fmnist_judge",
            judged_class_visualizations(
                cnn, fmnist_judge, range(plan.vis_fmnist_classes), plan.vis_seeds, *iterations
            ),
        )
    ]
    if plan.vis_lite0_classes:
        lite0, lite1 = load_backbone("efficientnet_lite0"), load_backbone("efficientnet_lite1")
        targets = [lite0.class_index(n) for n in IMAGENET_CLASSES[: plan.vis_lite0_classes]]
        result = judged_class_visualizations(lite0, lite1, targets, plan.vis_seeds, *iterations)
        judged.append((lite0, "efficientnet_lite1", result))
    return visualization_section(out_dir, judged)


def _saved_sections(path: Path, note: str) -> list[Section] | None:
    """The sections an earlier run of the same budget saved, if all their figures exist."""
    if not path.is_file():
        return None
    saved = json.loads(path.read_text(encoding="utf-8"))
    if saved.get("budget") != note:
        return None
    sections = []
    for item in saved["sections"]:
        figures = [Figure(Path(f["path"]), f["caption"]) for f in item["figures"]]
        if not all(figure.path.is_file() for figure in figures):
            return None
        tables = [Table(t["caption"], t["header"], t["rows"]) for t in item["tables"]]
        sections.append(
            Section(item["title"], item["intro"], figures, tables, item["notes"], item["error"])
        )
    return sections


def _save_sections(path: Path, note: str, sections: list[Section]) -> None:
    def plain(section: Section) -> dict:
        return {
            "title": section.title,
            "intro": section.intro,
            "figures": [{"path": str(f.path), "caption": f.caption} for f in section.figures],
            "tables": [
                {"caption": t.caption, "header": t.header, "rows": t.rows} for t in section.tables
            ],
            "notes": section.notes,
            "error": section.error,
        }

    text = json.dumps({"budget": note, "sections": [plain(s) for s in sections]}, default=str)
    atomic_write_text(path, text)


def run_section(out_dir: str | Path, budget: str = "quick", fresh: bool = False) -> list[Section]:
    """Run the studies at `budget`'s sizes and return their sections (figures in out_dir).

    Each part that fails becomes a section with the error; the others still run. A finished
    run of the same budget is reused unless `fresh` (failed parts are run again).
    """
    plan = budget_for(budget).explain_quality
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    saved_path = out_dir / "sections.json"
    saved = None if fresh else _saved_sections(saved_path, plan.note)
    if saved is not None and all(section.error is None for section in saved):
        return saved
    parts: list[tuple[str, Callable[[], list[Section]]]] = [
        ("Sanity checks of the explanations", lambda: sanity_sections(out_dir, _studies(plan))),
        ("Robustness to adversarial perturbations", lambda: [_robustness(out_dir, plan)]),
        ("Class visualizations people can recognise", lambda: [_visualizations(out_dir, plan)]),
    ]
    sections = []
    for title, part in parts:
        try:
            made = part()
        except Exception as error:  # one failed part must not hide the others
            logger.warning("explain quality part %r failed: %s", title, error)
            made = [Section(title, error=f"{type(error).__name__}: {error}")]
        for section in made:
            section.notes.append(f"Run with {plan.note}.")
        sections += made
    _save_sections(saved_path, plan.note, sections)
    return sections
