"""The explain part of `vislab demo`: saliency, fooling and class visualization figures.

Runs on EfficientNet-Lite0 with the scikit-image photos and the course's 25 ImageNet
validation images (shipped inside vislab), and on the project's Fashion-MNIST CNN. Figures
already in `out_dir` are reused unless `fresh`; a part that fails becomes a section with the
error while the others still run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import torch
from PIL import Image
from tqdm import tqdm

from vislab.atomic_files import atomic_write_text
from vislab.backbones.registry import load_backbone
from vislab.class_names import short_name
from vislab.datasets.imagenet import load_imagenet_val
from vislab.demo.budgets import ExplainBudget, budget_for
from vislab.explain.fooling import FoolingError
from vislab.explain.runs import (
    LabelledImage,
    explain_class,
    explain_classes,
    explain_fooling,
    explain_saliency,
    sample_photo_inputs,
    top1_correct,
)
from vislab.report import Figure, Section, Table

logger = logging.getLogger(__name__)
FOOLING_TARGETS = ("stingray", "goldfish", "tarantula", "hourglass", "gorilla")


class _Demo:
    """Shared state of one demo run: folder, budget, cached numbers, the classifier."""

    def __init__(self, out_dir: Path, budget: ExplainBudget, fresh: bool):
        self.out, self.budget = out_dir, budget
        self.cache_path = out_dir / "results.json"
        cache = {}
        if not fresh and self.cache_path.is_file():
            cache = json.loads(self.cache_path.read_text(encoding="utf-8"))
        # Figures of another budget are not reused: they were made with other settings.
        self.fresh = fresh or cache.get("budget") != budget.note
        self.cache = cache if not self.fresh else {"budget": budget.note}
        self.model = load_backbone("efficientnet_lite0")

    def figure(self, name: str, make: Callable[[Path], object]) -> Path:
        """out/name, made by make(path) unless an earlier run made it."""
        path = self.out / name
        if self.fresh or not path.is_file():
            make(path)
        return path

    def number(self, key: str, compute: Callable[[], object]) -> object:
        if key not in self.cache:
            self.cache[key] = compute()
            atomic_write_text(self.cache_path, json.dumps(self.cache, indent=1))
        return self.cache[key]

    def images(self, num: int) -> tuple[list[LabelledImage], str]:
        """The first `num` of the course's ImageNet validation images."""
        X, y, names = load_imagenet_val(num=num)
        items = [
            LabelledImage(short_name(names[int(c)]), Image.fromarray(x), (int(c),))
            for x, c in zip(X, y, strict=True)
        ]
        return items, "ImageNet validation images"


def _saliency(demo: _Demo) -> Section:
    photos = sample_photo_inputs(demo.model)[: demo.budget.photos]
    samples = demo.budget.smoothgrad_samples
    vanilla = demo.figure(
        "saliency_vanilla_photos.png",
        lambda p: explain_saliency(photos, demo.model, p, "vanilla"),
    )
    smooth = demo.figure(
        "saliency_smoothgrad_photos.png",
        lambda p: explain_saliency(photos, demo.model, p, "smoothgrad", num_samples=samples),
    )
    validation, kind = demo.images(5)
    course = demo.figure(
        "saliency_vanilla_validation.png",
        lambda p: explain_saliency(validation, demo.model, p, "vanilla"),
    )
    figures = [
        Figure(
            vanilla,
            "Vanilla saliency of the scikit-image photos: each image over its map "
            "(bright = the class score is most sensitive to that pixel).",
        ),
        Figure(
            smooth,
            f"SmoothGrad saliency of the same photos: the mean map over {samples} "
            "noisy copies, less speckled than the plain gradient.",
        ),
        Figure(
            course,
            f"The notebook's figure: vanilla saliency of the first 5 {kind} for their true class.",
        ),
    ]
    tables = []
    if kind.startswith("ImageNet"):
        everything, _ = demo.images(25)
        correct = demo.number(
            "validation_top1",
            lambda: top1_correct(
                demo.model, [i.image for i in everything], [i.labels[0] for i in everything]
            ),
        )
        tables.append(
            Table(
                "EfficientNet-Lite0 on the course's 25 ImageNet validation images",
                ["images", "top-1 correct", "top-1 accuracy"],
                [[25, correct, correct / 25]],
            )
        )
    return Section(
        "Saliency maps",
        "Which pixels the score of the true class depends on "
        "(Simonyan et al. 2014), on EfficientNet-Lite0 with its ImageNet weights.",
        figures=figures,
        tables=tables,
    )


def _fooling(demo: _Demo) -> Section:
    items, kind = demo.images(demo.budget.fooling_images)
    figures, rows = [], []
    for n, item in enumerate(items):
        target = FOOLING_TARGETS[n % len(FOOLING_TARGETS)]
        key = f"fooling_{n}_{target}"

        def make(path: Path, item=item, target=target) -> list:
            try:
                outcome = explain_fooling(item, demo.model, target, path, max_iterations=200)
            except FoolingError as error:
                return [item.name, "(not fooled)", str(error)]
            return [outcome.original_class, outcome.fooled_class, outcome.max_pixel_change * 255]

        path = demo.out / f"{key}.png"
        if demo.fresh or not path.is_file():
            demo.cache.pop(key, None)
        before, after, change = demo.number(key, lambda make=make, path=path: make(path))
        if path.is_file():
            figures.append(
                Figure(
                    path,
                    f"{item.name}: original ({before}), fooling image ({after}), the difference "
                    "and the difference magnified 10x (grey = no change).",
                )
            )
        change = round(change, 1) if isinstance(change, float) else change
        rows.append([item.name, before, target, after, change])
    table = Table(
        f"Fooling {kind}: normalised-gradient ascent on the target score",
        ["image", "predicted before", "target", "predicted after", "largest pixel change (of 255)"],
        rows,
    )
    return Section(
        "Fooling images",
        "A change too small to see makes the network predict another class (Szegedy et al. 2014).",
        figures=figures,
        tables=[table],
    )


def _class_visualization(demo: _Demo) -> Section:
    iterations = demo.budget.class_iterations
    figures = []
    for target in demo.budget.imagenet_classes:
        path = demo.figure(
            f"class_{target}.png",
            lambda p, t=target: explain_class(demo.model, t, p, num_iterations=iterations),
        )
        figures.append(
            Figure(
                path,
                f"Class visualization of '{target}' on EfficientNet-Lite0: "
                f"gradient ascent from noise, snapshots up to {iterations} steps.",
            )
        )
    fmnist = load_backbone("fmnist_cnn")
    path = demo.figure(
        "class_fmnist_snapshots.png",
        lambda p: explain_class(fmnist, "sneaker", p, num_iterations=iterations),
    )
    figures.append(
        Figure(
            path,
            "The same on the project's 28x28 Fashion-MNIST CNN "
            "('sneaker'), with jitter and step scaled to the small input.",
        )
    )
    path = demo.figure(
        "class_fmnist_all.png",
        lambda p: explain_classes(fmnist, fmnist.class_names, p, num_iterations=iterations),
    )
    figures.append(
        Figure(
            path, "What the Fashion-MNIST CNN looks for in each of its ten classes (final images)."
        )
    )
    return Section(
        "Class visualization",
        "Images synthesised to maximise one class score, "
        "with L2 regularisation, jitter and blur (Yosinski et al. 2015).",
        figures=figures,
    )


def run_section(out_dir: str | Path, budget: str = "quick", fresh: bool = False) -> list[Section]:
    """Write the explain figures into out_dir; return the report sections.

    `budget` is "tiny" (a smoke run), "quick" (the demo's default) or "full".
    """
    plan = budget_for(budget).explain
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # One intra-op thread: these are batch-1 passes that gain little from two, and on a busy
    # 2-core machine two threads spin against each other (measured: quick run 408 s with
    # two threads, 51 s with one, under a load of 12).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_parts(_Demo(out_dir, plan, fresh), budget)
    finally:
        torch.set_num_threads(threads)


def _run_parts(demo: _Demo, name: str) -> list[Section]:
    sections = []
    parts = (
        ("Saliency maps", _saliency),
        ("Fooling images", _fooling),
        ("Class visualization", _class_visualization),
    )
    for title, part in tqdm(parts, desc="explain demo"):
        try:
            section = part(demo)
        except Exception as error:  # one failed part must not hide the others
            logger.warning("explain demo part %r failed: %s", title, error)
            section = Section(title, error=f"{type(error).__name__}: {error}")
        if name != "full":
            section.notes.append(f"Run with {demo.budget.note}; `--full` uses more.")
        sections.append(section)
    return sections
