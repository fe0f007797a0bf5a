"""Explanations written as PNG figures: what the CLI commands and the demo call.

Each function takes a classifier and inputs, computes one kind of explanation, writes one
figure atomically and returns what it found (paths, predictions, iterations).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from vislab.atomic_files import atomic_savefig
from vislab.backbones.classifier import ImageClassifier
from vislab.class_names import short_name
from vislab.datasets.sample_photos import SAMPLE_PHOTO_LABELS, SAMPLE_PHOTOS, load_sample_photo
from vislab.errors import InvalidInputError
from vislab.explain.attribution import METHODS, attribute
from vislab.explain.class_visualization import create_class_visualization
from vislab.explain.figures import class_visualization_figure, image_row_figure, saliency_figure
from vislab.explain.fooling import make_fooling_image
from vislab.explain.integrated_gradients import integrated_gradients_saliency_maps
from vislab.explain.saliency import compute_saliency_maps
from vislab.explain.smoothgrad import smoothgrad_saliency_maps

logger = logging.getLogger(__name__)

SALIENCY_METHODS: dict[str, Callable[..., torch.Tensor]] = {
    "vanilla": compute_saliency_maps,
    "smoothgrad": smoothgrad_saliency_maps,
    "integrated-gradients": integrated_gradients_saliency_maps,
}


def _attribution_maps(method: str) -> Callable[..., torch.Tensor]:
    def maps(X: torch.Tensor, y: torch.Tensor, model: ImageClassifier, **options) -> torch.Tensor:
        return attribute(model, X, y, method, **options).maps

    return maps


# captum's methods (explain.attribution) in the same shape: (X, y, model, **options) -> maps.
ATTRIBUTION_METHODS = {method: _attribution_maps(method) for method in METHODS}


@dataclass
class LabelledImage:
    """An image to explain; `labels` are the acceptable true classes (empty if unknown)."""

    name: str
    image: Image.Image
    labels: tuple[int, ...] = ()


def sample_photo_inputs(classifier: ImageClassifier, names: Sequence[str] = ()) -> list:
    """The scikit-image photos as LabelledImages (labels only for ImageNet classifiers)."""
    imagenet = len(classifier.class_names) == 1000
    inputs = []
    for name in names or SAMPLE_PHOTOS:
        labels = SAMPLE_PHOTO_LABELS[name] if imagenet else None
        indices = tuple(classifier.class_index(label) for label in labels or ())
        inputs.append(LabelledImage(name, load_sample_photo(name), indices))
    return inputs


def _label(classifier: ImageClassifier, index: int) -> str:
    return short_name(classifier.class_names[index])


def explain_saliency(
    inputs: Sequence[LabelledImage],
    classifier: ImageClassifier,
    out_path: str | Path,
    method: str = "vanilla",
    methods: dict[str, Callable[..., torch.Tensor]] = SALIENCY_METHODS,
    **options,
) -> Path:
    """Saliency of each image for its true class (the predicted one when unknown or when the
    prediction is one of its acceptable labels); writes image-over-map columns to out_path.

    options go to the saliency method (num_samples for smoothgrad, num_steps for IG);
    `methods` is SALIENCY_METHODS (the course's) or ATTRIBUTION_METHODS (captum's).
    """
    if method not in methods:
        raise InvalidInputError(f"unknown method {method!r}; choose from {', '.join(methods)}")
    if not inputs:
        raise InvalidInputError("no images to explain")
    X = torch.cat([classifier.preprocess(item.image) for item in inputs])
    with torch.no_grad():
        probabilities = classifier(X).softmax(dim=1)
    predicted = probabilities.argmax(dim=1).tolist()
    targets, titles = [], []
    for item, guess, p in zip(inputs, predicted, probabilities, strict=True):
        target = guess if not item.labels or guess in item.labels else item.labels[0]
        targets.append(target)
        truth = _label(classifier, target) if item.labels else "unknown"
        titles.append(
            f"{item.name}\npred: {_label(classifier, guess)} ({p[guess]:.0%})\ntrue: {truth}"
        )
    maps = methods[method](X, torch.tensor(targets), classifier, **options)
    images = [classifier.deprocess(x[None], should_rescale=False) for x in X]
    heading = f"{method} saliency of the true class's score, {classifier.name}"
    figure = saliency_figure(images, maps.cpu().numpy(), titles, heading)
    return atomic_savefig(figure, Path(out_path), dpi=90)


@dataclass
class FoolingOutcome:
    path: Path
    original_class: str
    fooled_class: str
    max_pixel_change: float  # L-inf of the perturbation, in pixel units (1.0 = full range)


def explain_fooling(
    item: LabelledImage,
    classifier: ImageClassifier,
    target: int | str,
    out_path: str | Path,
    max_iterations: int = 100,
) -> FoolingOutcome:
    """Make a fooling image for `target`; write original, fooling image and differences."""
    X = classifier.preprocess(item.image)
    target_index = classifier.class_index(target)
    X_fooling = make_fooling_image(X, target_index, classifier, max_iterations=max_iterations)
    with torch.no_grad():
        before = int(classifier(X).argmax())
        after = int(classifier(X_fooling).argmax())
    difference = X_fooling - X
    change = float((classifier.to_pixels(X_fooling) - classifier.to_pixels(X)).abs().max())
    # The differences are shown around mid-grey: deprocess adds the mean back.
    panels = [
        (classifier.deprocess(X, False), f"original\npred: {_label(classifier, before)}"),
        (
            classifier.deprocess(X_fooling, False),
            f"fooling image\npred: {_label(classifier, after)}",
        ),
        (classifier.deprocess(difference, should_rescale=False), "difference"),
        (classifier.deprocess(10 * difference, should_rescale=False), "magnified difference (10x)"),
    ]
    heading = f"{item.name}: fooling {classifier.name} into '{_label(classifier, target_index)}'"
    path = atomic_savefig(image_row_figure(panels, heading), Path(out_path), dpi=90)
    return FoolingOutcome(path, _label(classifier, before), _label(classifier, after), change)


def explain_class(
    classifier: ImageClassifier,
    target: int | str,
    out_path: str | Path,
    num_iterations: int = 100,
    seed: int = 0,
    progress: bool = False,
    **options,
) -> Path:
    """Class visualization of `target`; writes the snapshots (the last is the final image)."""
    target_index = classifier.class_index(target)
    result = create_class_visualization(
        target_index,
        classifier,
        num_iterations=num_iterations,
        seed=seed,
        progress=progress,
        **options,
    )
    heading = f"class visualization of '{_label(classifier, target_index)}', {classifier.name}"
    figure = class_visualization_figure(result.snapshots, num_iterations, heading)
    return atomic_savefig(figure, Path(out_path), dpi=90)


def explain_classes(
    classifier: ImageClassifier,
    targets: Sequence[int | str],
    out_path: str | Path,
    num_iterations: int = 100,
    seed: int = 0,
) -> Path:
    """Final class visualizations of several classes side by side in one figure."""
    panels = []
    for target in targets:
        index = classifier.class_index(target)
        result = create_class_visualization(
            index, classifier, num_iterations=num_iterations, seed=seed
        )
        panels.append((result.image, _label(classifier, index)))
    heading = f"class visualizations, {classifier.name}, {num_iterations} iterations"
    figure = image_row_figure(panels, heading, columns=min(len(panels), 5))
    return atomic_savefig(figure, Path(out_path), dpi=90)


def top1_correct(classifier: ImageClassifier, images: Sequence[Image.Image], labels) -> int:
    """How many of `images` the classifier puts in their class (labels: ints)."""
    correct = 0
    for image, label in zip(images, labels, strict=True):
        with torch.no_grad():
            correct += int(classifier(classifier.preprocess(image)).argmax()) == int(label)
    return correct
