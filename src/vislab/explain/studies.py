"""The explanation-quality studies end to end, as the demo and the benchmark run them: data
in, results out (figures are made by quality_figures, sections by vislab.demo)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import Image

from vislab.backbones.classifier import ImageClassifier
from vislab.datasets.imagenet import load_imagenet_val
from vislab.datasets.mnist import load_mnist_format
from vislab.explain.class_visualization import create_class_visualization
from vislab.explain.faithfulness import FaithfulnessRow, faithfulness_table
from vislab.explain.fourier_visualization import fourier_class_visualization, judge_top1
from vislab.explain.sanity import CONTROL, SanityResult, cascading_randomization


def fmnist_test_images(num: int, data_dir=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `num` Fashion-MNIST test images (N, 1, 28, 28) in [0, 1] and labels (N,)."""
    images, labels = load_mnist_format(data_dir, "test")
    X = torch.from_numpy(images[:num]).float().div_(255).unsqueeze(1)
    return X, torch.from_numpy(labels[:num]).long()


def course_images(classifier: ImageClassifier, num: int = 25) -> tuple[torch.Tensor, torch.Tensor]:
    """The course's ImageNet validation images, preprocessed for `classifier`, and labels."""
    images, labels, _ = load_imagenet_val(num=num)
    X = torch.cat([classifier.preprocess(Image.fromarray(x)) for x in images])
    return X, torch.from_numpy(labels).long()


@dataclass
class ExplanationStudy:
    sanity: SanityResult
    faithfulness: list[FaithfulnessRow]
    faithfulness_steps: int  # slices of the deletion/insertion curves
    seconds: float  # both together, on this machine


def explanation_study(
    classifier: ImageClassifier,
    X: torch.Tensor,
    y: torch.Tensor,
    methods: Sequence[str],
    num_samples: int = 8,
    num_steps: int = 8,
    faithfulness_steps: int = 16,
) -> ExplanationStudy:
    """Sanity checks, then deletion/insertion AUC of the same (trained) maps and the control."""
    start = time.perf_counter()
    sanity = cascading_randomization(
        classifier, X, y, methods, num_samples=num_samples, num_steps=num_steps
    )
    maps = {m: sanity.maps[m] for m in [*methods, CONTROL]}
    rows = faithfulness_table(classifier, X, y, maps, num_steps=faithfulness_steps)
    return ExplanationStudy(sanity, rows, faithfulness_steps, time.perf_counter() - start)


@dataclass
class JudgedVisualizations:
    targets: list[int]
    seeds: list[int]
    course: list[Image.Image]  # per (seed, target), seeds outer
    fourier: list[Image.Image]
    course_hits: list[bool]  # the judge named the intended class
    fourier_hits: list[bool]
    seconds: dict[str, float]

    def rate(self, method: str) -> float:
        hits = self.course_hits if method == "course" else self.fourier_hits
        return sum(hits) / len(hits)


def judged_class_visualizations(
    model: ImageClassifier,
    judge: ImageClassifier,
    targets: Sequence[int],
    seeds: Sequence[int] = (0, 1),
    course_iterations: int = 100,
    fourier_iterations: int = 128,
) -> JudgedVisualizations:
    """Both methods' images of each target class with each seed, judged by another network."""
    targets = [int(t) for t in targets]
    course, course_pixels, fourier, fourier_pixels = [], [], [], []
    seconds = {"course": 0.0, "fourier": 0.0}
    for seed in seeds:
        start = time.perf_counter()
        for target in targets:
            result = create_class_visualization(
                target, model, num_iterations=course_iterations, seed=seed
            )
            # The course's figure stretches the range; the judge sees the clamped pixels.
            course_pixels.append(model.to_pixels(result.tensor).clamp(0, 1))
            course.append(model.deprocess(result.tensor, should_rescale=False))
        seconds["course"] += time.perf_counter() - start
        start = time.perf_counter()
        result = fourier_class_visualization(
            model, targets, num_iterations=fourier_iterations, seed=seed
        )
        fourier_pixels.append(result.pixels)
        fourier += result.images
        seconds["fourier"] += time.perf_counter() - start
    expected = torch.tensor(targets * len(seeds))
    course_hits = judge_top1(judge, torch.cat(course_pixels), expected).tolist()
    fourier_hits = judge_top1(judge, torch.cat(fourier_pixels), expected).tolist()
    return JudgedVisualizations(
        targets, list(seeds), course, fourier, course_hits, fourier_hits, seconds
    )
