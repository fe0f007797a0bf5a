"""`vislab explain attribute|sanity|robustness|judge`: captum attributions as PNG, and the
explanation-quality studies as PNG figures with an HTML page of their tables."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

from vislab.backbones.registry import BACKBONES, load_backbone
from vislab.cli import arguments as valid
from vislab.demo.explain_quality import (
    robustness_section,
    sanity_sections,
    visualization_section,
)
from vislab.errors import InvalidInputError
from vislab.explain.attribution import METHODS
from vislab.explain.robustness import robustness_curve
from vislab.explain.runs import ATTRIBUTION_METHODS, explain_saliency
from vislab.explain.studies import (
    course_images,
    explanation_study,
    fmnist_test_images,
    judged_class_visualizations,
)
from vislab.report import write_report


def _images(classifier, num: int):
    """Fashion-MNIST test images for a 28x28 grey model, the course's images for ImageNet."""
    if classifier.channels == 1:
        return fmnist_test_images(num)
    if num > 25:
        raise InvalidInputError(f"--num {num}: the course ships 25 ImageNet images")
    return course_images(classifier, num)


def _page(sections, out: Path, name: str, title: str) -> None:
    page = write_report(sections, out / f"{name}.html", title)
    for section in sections:
        for figure in section.figures:
            print(figure.path)
    print(page)


def _attribute(args) -> None:
    classifier = load_backbone(args.model, weights=args.weights)
    out = Path(args.out) / f"attribution_{args.method}_{args.model}.png"
    inputs = args.read_inputs(classifier, args.images)
    print(explain_saliency(inputs, classifier, out, args.method, ATTRIBUTION_METHODS))


def _sanity(args) -> None:
    classifier = load_backbone(args.model, weights=args.weights)
    X, y = _images(classifier, args.num)
    study = explanation_study(
        classifier, X, y, args.methods, num_samples=args.samples, num_steps=args.samples
    )
    out = Path(args.out).resolve()  # the page links its figures relative to itself
    title = f"Sanity checks and faithfulness, {args.model}"
    _page(sanity_sections(out, [study]), out, f"sanity_{args.model}", title)


def _robustness(args) -> None:
    levels = args.epsilons
    if any(b <= a for a, b in pairwise(levels)):
        given = " ".join(f"{level:g}" for level in levels)
        raise InvalidInputError(f"--epsilons must increase from budget to budget, got {given}")
    classifier = load_backbone(args.model, weights=args.weights)
    X, y = _images(classifier, args.num)
    epsilons = [level / 255 for level in levels]
    curve = robustness_curve(classifier, X, y, epsilons, args.restarts, args.iterations)
    out = Path(args.out).resolve()  # the page links its figures relative to itself
    section = robustness_section(out, [curve], None)
    _page([section], out, f"robustness_{args.model}", f"Robustness, {args.model}")


def _judge(args) -> None:
    model = load_backbone(args.model, weights=args.weights)
    judge = load_backbone(args.judge)
    if judge.class_names != model.class_names or judge.channels != model.channels:
        raise InvalidInputError(
            f"--judge {args.judge} cannot judge {args.model}'s images: the two networks name "
            "different classes or read different images (pick a judge trained on the same "
            "data set, e.g. efficientnet_lite1 for an ImageNet model, fmnist_judge for fmnist_cnn)"
        )
    targets = [model.class_index(t) for t in args.targets]
    judged = judged_class_visualizations(
        model, judge, targets, args.seeds, args.course_iterations, args.fourier_iterations
    )
    out = Path(args.out).resolve()  # the page links its figures relative to itself
    section = visualization_section(out, [(model, args.judge, judged)])
    _page([section], out, f"judged_{args.model}", f"Class visualizations judged, {args.model}")


def _common(parser, default_model: str) -> None:
    parser.add_argument(
        "--model", choices=BACKBONES, default=default_model, help="classifier to explain"
    )
    parser.add_argument(
        "--weights", type=valid.existing_file, help="weights file (default: the model's usual file)"
    )
    parser.add_argument(
        "--out", type=valid.output_folder, default="explain-out", help="output folder"
    )


def register_quality(explain, image_help: str, read_inputs: Callable) -> None:
    """Add the verbs to the `explain` command group; read_inputs(classifier, arguments) turns
    IMAGE arguments into LabelledImages, as `explain saliency` does."""
    p = explain.add_parser(
        "attribute",
        help="captum attributions: Grad-CAM, Guided Grad-CAM, occlusion, SmoothGrad, ...",
        description="Write the images over one attribution method's maps (captum's engine).",
    )
    p.add_argument("images", nargs="*", metavar="IMAGE", help=image_help)
    p.add_argument("--method", choices=METHODS, default="gradcam")
    _common(p, "efficientnet_lite0")
    p.set_defaults(handler=_attribute, read_inputs=read_inputs)

    p = explain.add_parser(
        "sanity",
        help="sanity checks (cascading randomization) and deletion/insertion faithfulness",
        description="Randomize the model top-down and track each method's rank correlation; "
        "score the maps by deletion/insertion AUC against a random map. Writes PNG + HTML.",
    )
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--num", type=valid.positive_int, default=100, help="images (default 100)")
    p.add_argument("--samples", type=valid.positive_int, default=8, help="SmoothGrad/IG steps")
    _common(p, "fmnist_cnn")
    p.set_defaults(handler=_sanity)

    p = explain.add_parser(
        "robustness",
        help="accuracy under untargeted L-inf PGD over a ladder of budgets",
        description="Per-image worst case over restarts and smaller budgets. Writes PNG + HTML.",
    )
    p.add_argument(
        "--epsilons",
        nargs="+",
        type=valid.pixel_level,
        default=[1, 2, 4, 8, 16],
        help="increasing budgets in pixel levels of 255 (default 1 2 4 8 16)",
    )
    p.add_argument("--num", type=valid.positive_int, default=1000, help="images (default 1000)")
    p.add_argument("--restarts", type=valid.positive_int, default=2)
    p.add_argument("--iterations", type=valid.positive_int, default=10)
    _common(p, "fmnist_cnn")
    p.set_defaults(handler=_robustness)

    p = explain.add_parser(
        "judge",
        help="class visualizations (course and Fourier) judged by another network",
        description="Make both methods' images of each class and ask a judge network which "
        "class it sees. Writes PNG + HTML.",
    )
    p.add_argument("targets", nargs="+", type=valid.class_name_or_index, metavar="CLASS")
    p.add_argument("--judge", choices=BACKBONES, default="fmnist_judge")
    p.add_argument("--seeds", nargs="+", type=valid.seed, default=[0])
    p.add_argument("--course-iterations", type=valid.positive_int, default=100)
    p.add_argument("--fourier-iterations", type=valid.positive_int, default=128)
    _common(p, "fmnist_cnn")
    p.set_defaults(handler=_judge)
