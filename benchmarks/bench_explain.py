"""Explain benchmarks on EfficientNet-Lite0 (ratios and rates, measured in one process).

1. Saliency for a batch of 5 at 224x224 against one plain autograd forward+backward of the
   same model (target: at most 1.1x).
2. The course's fooling on all 25 ImageNet validation images with seeded random targets:
   success rate within 100 iterations, median iterations, median L-inf / L2 of the
   perturbation in pixel units (of 255); against batched PGD at the smallest L-inf budget
   (from a ladder) that reaches the same success rate.

Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_explain.py [--quick] [--threads 1]
(one torch thread by default: on a loaded 2-core machine two threads spin against each
other and the timings become noise.)
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from PIL import Image

from results import report
from vislab.explain import (
    compute_saliency_maps,
    fool_image,
    load_classifier,
    load_imagenet_val,
    pgd_attack,
)

EPSILON_LADDER = (0.5, 1, 2, 4, 8, 16)  # of 255


def _seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def bench_saliency(model, X: torch.Tensor, y: torch.Tensor, repeats: int) -> tuple[float, float]:
    """Median seconds of (plain forward+backward, compute_saliency_maps), timed interleaved."""

    def plain() -> None:
        x = X.clone().requires_grad_(True)
        model(x).gather(1, y[:, None]).sum().backward()

    plain()  # warm up
    times = [
        (_seconds(plain), _seconds(lambda: compute_saliency_maps(X, y, model)))
        for _ in range(repeats)
    ]
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def _sizes(model, X: torch.Tensor, X_adv: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Per-image L-inf and L2 of the perturbation in pixel units of 255."""
    delta = (model.to_pixels(X_adv) - model.to_pixels(X)) * 255
    return delta.flatten(1).abs().amax(1).numpy(), delta.flatten(1).norm(dim=1).numpy()


def bench_fooling(model, X: torch.Tensor, targets: torch.Tensor) -> dict:
    images, iterations, success = [], [], []
    for x, target in zip(X, targets, strict=True):
        result = fool_image(x[None], int(target), model, max_iterations=100)
        images.append(result.image)
        iterations.append(result.iterations)
        success.append(result.success)
    linf, l2 = _sizes(model, X, torch.cat(images))
    return {"rate": float(np.mean(success)), "iterations": iterations, "linf": linf, "l2": l2}


def bench_pgd(model, X: torch.Tensor, targets: torch.Tensor, rate: float) -> dict:
    """PGD up the budget ladder until it fools as many images as the course's method."""
    ladder = []
    for epsilon in EPSILON_LADDER:
        result = pgd_attack(X, targets, model, epsilon=epsilon / 255, max_iterations=100)
        achieved = result.success.float().mean().item()
        ladder.append(f"{epsilon}/255: {achieved:.0%}")
        print(f"  PGD eps {epsilon}/255: success {achieved:.0%}", flush=True)
        if achieved >= rate:
            break
    linf, l2 = _sizes(model, X, result.images)
    return {
        "epsilon": epsilon,
        "ladder": ", ".join(ladder),
        "rate": achieved,
        "iterations": result.iterations.tolist(),
        "linf": linf,
        "l2": l2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 images instead of 25")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (1: steadier on a shared machine)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = load_classifier("efficientnet_lite0")
    images, labels, _ = load_imagenet_val()
    X = torch.cat([model.preprocess(Image.fromarray(x)) for x in images])
    y = torch.from_numpy(labels)
    baseline, ours = bench_saliency(model, X[:5], y[:5], args.repeats)

    num = 5 if args.quick else len(X)
    targets = torch.from_numpy(np.random.default_rng(0).integers(0, 1000, size=num))
    start = time.perf_counter()
    fooling = bench_fooling(model, X[:num], targets)
    fooling_time = time.perf_counter() - start
    start = time.perf_counter()
    pgd = bench_pgd(model, X[:num], targets, fooling["rate"])
    pgd_time = time.perf_counter() - start

    def row(name: str, r: dict, seconds: float) -> str:
        return (
            f"| {name} | {r['rate']:.0%} | {statistics.median(r['iterations']):.0f} | "
            f"{np.median(r['linf']):.2f} | {np.median(r['l2']):.1f} | {seconds:.0f} |"
        )

    body = "\n".join(
        [
            f"Saliency, batch of 5 at 224x224: {ours * 1000:.0f} ms against {baseline * 1000:.0f}"
            f" ms for one plain forward+backward: **{ours / baseline:.2f}x** (target <= 1.1x)",
            "",
            f"Fooling {num} ImageNet validation images, seeded random targets, at most 100 "
            "iterations; perturbation sizes in pixel units of 255 (medians):",
            "",
            "| attack | success | iterations | L-inf | L2 | seconds |",
            "|---|---|---|---|---|---|",
            row("course (normalised gradient, step 1)", fooling, fooling_time),
            row(f"PGD, L-inf budget {pgd['epsilon']}/255, step budget/4", pgd, pgd_time),
            "",
            f"PGD success along the budget ladder (seconds above include every rung): "
            f"{pgd['ladder']}.",
        ]
    )
    report("Explain: saliency overhead and fooling (EfficientNet-Lite0)", body)


if __name__ == "__main__":
    main()
