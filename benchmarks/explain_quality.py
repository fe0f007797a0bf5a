"""Explanation quality at the issue's sizes: sanity checks, faithfulness, robustness, judged
class visualizations. Each part writes its own table to RESULTS.md (through results.py), with
what it cost.

  fmnist      sanity + faithfulness, Fashion-MNIST CNN, 100 test images, every method
  lite0       sanity + faithfulness, EfficientNet-Lite0, the 25 course images (the methods
              that fit a few minutes on 2 cores: occlusion and VarGrad left out)
  robustness  untargeted PGD ladders: the CNN on 1,000 test images, Lite0 on the 25; the
              share of Lite0's adversarial images that fool Lite1
  vis-fmnist  course vs Fourier class visualizations of the CNN's 10 classes x 2 seeds,
              judged by the independent Fashion-MNIST judge
  vis-lite0   the same for 10 ImageNet classes on Lite0, judged by Lite1

Run: cd benchmarks && PYTHONPATH=../src ../.venv/bin/python explain_quality.py PART [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch

from results import report
from vislab.backbones import load_backbone
from vislab.explain.attribution import METHODS
from vislab.explain.quality_figures import FAITHFULNESS_HEADER, faithfulness_rows, sanity_rows
from vislab.explain.robustness import robustness_curve, transfer_rate
from vislab.explain.studies import (
    course_images,
    explanation_study,
    fmnist_test_images,
    judged_class_visualizations,
)

LITE0_METHODS = ("saliency", "gradcam", "guided-gradcam", "smoothgrad", "integrated-gradients")
IMAGENET_CLASSES = (
    "tarantula", "goldfish", "hourglass", "gorilla", "stingray",
    "flamingo", "king penguin", "volcano", "lemon", "school bus",
)  # fmt: skip
FMNIST_LADDER = (1, 2, 4, 8, 16, 32)  # L-inf budgets in pixel levels of 255
LITE0_LADDER = (0.25, 0.5, 1, 2, 4)


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _study_body(study, images: int, extra: str) -> str:
    sanity = study.sanity
    header = ["method", *sanity.steps, "flagged (stays > 0.5)"]
    return (
        f"{images} images; {extra}. Spearman rank correlation of each method's maps with the "
        "trained model's, mean over images, as blocks are randomized top-down "
        f"(cumulative):\n\n{_markdown(header, sanity_rows(sanity))}\n\n"
        f"Flagged: {', '.join(sanity.flagged()) or 'none'}.\n\nDeletion / insertion AUC of "
        f"the trained model's maps ({study.faithfulness_steps} steps, black):\n\n"
        f"{_markdown(FAITHFULNESS_HEADER, faithfulness_rows(study.faithfulness))}\n\n"
        f"Cost: {study.seconds:.0f} s for sanity + faithfulness."
    )


def part_fmnist() -> None:
    model = load_backbone("fmnist_cnn")
    X, y = fmnist_test_images(100)
    study = explanation_study(model, X, y, METHODS, num_samples=8, num_steps=8)
    body = _study_body(study, 100, "SmoothGrad/VarGrad 8 samples, IG 8 steps, occlusion 4x4")
    report("Explanation sanity and faithfulness: Fashion-MNIST CNN", body, "explain_quality_fmnist")


def part_lite0() -> None:
    model = load_backbone("efficientnet_lite0")
    X, y = course_images(model)
    study = explanation_study(
        model, X, y, LITE0_METHODS, num_samples=4, num_steps=4, faithfulness_steps=8
    )
    body = _study_body(study, 25, "SmoothGrad 4 samples, IG 4 steps")
    report("Explanation sanity and faithfulness: EfficientNet-Lite0", body, "explain_quality_lite0")


def part_robustness() -> None:
    start = time.perf_counter()
    cnn = load_backbone("fmnist_cnn")
    X, y = fmnist_test_images(1000)
    fmnist = robustness_curve(cnn, X, y, [e / 255 for e in FMNIST_LADDER], 2, 10)
    cnn_seconds = time.perf_counter() - start
    lite0 = load_backbone("efficientnet_lite0")
    X, y = course_images(lite0)
    curve = robustness_curve(lite0, X, y, [e / 255 for e in LITE0_LADDER], 2, 10, batch_size=25)
    lite1 = load_backbone("efficientnet_lite1")
    X1, _ = course_images(lite1)
    with torch.no_grad():
        lite1_correct = lite1(X1).argmax(1) == y
    fooled = (curve.fooled_at >= 0) & lite1_correct
    rate = transfer_rate(lite0, lite1, curve.adversarial[fooled], y[fooled])
    rows = []
    for name, c in (("fmnist_cnn (1,000 images)", fmnist), ("efficientnet_lite0 (25)", curve)):
        rows.append([name] + [f"{a:.3f}" for a in c.accuracy])
    width = max(len(fmnist.epsilons), len(curve.epsilons))
    header = ["model"] + [f"budget {i}" for i in range(width)]
    rows = [r + [""] * (width + 1 - len(r)) for r in rows]
    body = (
        f"Untargeted L-inf PGD, 10 steps of eps/4, 2 restarts (clean start, then random), "
        f"per-image worst case over restarts and smaller budgets. Budgets (of 255): CNN 0, "
        f"{', '.join(map(str, FMNIST_LADDER))}; Lite0 0, {', '.join(map(str, LITE0_LADDER))}."
        f"\n\n{_markdown(header, rows)}\n\nTransfer: {int(fooled.sum())} Lite0 adversarial "
        f"images of images Lite1 classifies correctly; Lite1 is fooled by {rate:.0%} of them.\n\n"
        f"Cost: CNN {cnn_seconds:.0f} s, Lite0 + transfer "
        f"{time.perf_counter() - start - cnn_seconds:.0f} s."
    )
    report("Robustness under untargeted PGD", body, "explain_quality_robustness")


def _vis_body(judged, judge: str, iterations: str) -> str:
    course, fourier = judged.rate("course"), judged.rate("fourier")
    ratio = f"{fourier / course:.1f}x" if course else "course 0"
    return (
        f"{len(judged.targets)} classes x {len(judged.seeds)} seeds, judged top-1 by {judge}; "
        f"{iterations}.\n\n| method | judge names the class | cost (s) |\n| --- | --- | --- |\n"
        f"| course (pixels, L2, jitter, blur) | {course:.0%} | {judged.seconds['course']:.0f} |\n"
        f"| Fourier, decorrelated colour, transforms | {fourier:.0%} | "
        f"{judged.seconds['fourier']:.0f} |\n\nFourier / course: {ratio}."
    )


def part_vis_fmnist() -> None:
    model, judge = load_backbone("fmnist_cnn"), load_backbone("fmnist_judge")
    judged = judged_class_visualizations(model, judge, range(10), (0, 1), 100, 128)
    body = _vis_body(judged, "fmnist_judge", "course 100 iterations, Fourier 128")
    report("Class visualizations judged: Fashion-MNIST CNN", body, "explain_quality_vis_fmnist")


def part_vis_lite0() -> None:
    model, judge = load_backbone("efficientnet_lite0"), load_backbone("efficientnet_lite1")
    targets = [model.class_index(name) for name in IMAGENET_CLASSES]
    judged = judged_class_visualizations(model, judge, targets, (0, 1), 100, 64)
    body = _vis_body(judged, "efficientnet_lite1", "course 100 iterations, Fourier 64")
    report("Class visualizations judged: EfficientNet-Lite0", body, "explain_quality_vis_lite0")


PARTS = {
    "fmnist": part_fmnist,
    "lite0": part_lite0,
    "robustness": part_robustness,
    "vis-fmnist": part_vis_fmnist,
    "vis-lite0": part_vis_lite0,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=PARTS)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    PARTS[args.part]()


if __name__ == "__main__":
    main()
