"""`vislab explain saliency|fool|class` (and, from explain_quality, attribute|sanity|robustness|
judge): explanation figures as PNG files."""

from __future__ import annotations

from pathlib import Path

from vislab.backbones.registry import BACKBONES, load_backbone
from vislab.cli import arguments as valid
from vislab.cli.explain_quality import register_quality
from vislab.datasets.sample_photos import SAMPLE_PHOTOS, load_image
from vislab.explain.runs import (
    SALIENCY_METHODS,
    LabelledImage,
    explain_class,
    explain_fooling,
    explain_saliency,
    sample_photo_inputs,
)

IMAGE_HELP = (
    "image files, or names of scikit-image sample photos "
    f"({', '.join(SAMPLE_PHOTOS)}); default: all the sample photos"
)


def _inputs(classifier, images: list[str]) -> list[LabelledImage]:
    """Sample photo names keep their known labels; other arguments are image files."""
    if not images:
        return sample_photo_inputs(classifier)
    inputs = []
    for image in images:
        if image in SAMPLE_PHOTOS and not Path(image).exists():
            inputs += sample_photo_inputs(classifier, [image])
        else:
            inputs.append(LabelledImage(Path(image).stem, load_image(image)))
    return inputs


def _saliency(args) -> None:
    classifier = load_backbone(args.model, weights=args.weights)
    out = Path(args.out) / f"saliency_{args.method}_{args.model}.png"
    print(explain_saliency(_inputs(classifier, args.images), classifier, out, args.method))


def _fool(args) -> None:
    classifier = load_backbone(args.model, weights=args.weights)
    (item,) = _inputs(classifier, [args.image])
    target = classifier.class_index(args.target)
    out = Path(args.out) / f"fooling_{item.name}_{target}_{args.model}.png"
    outcome = explain_fooling(item, classifier, target, out, max_iterations=args.max_iterations)
    print(
        f"{outcome.original_class} -> {outcome.fooled_class} "
        f"(largest pixel change {outcome.max_pixel_change * 255:.1f}/255)"
    )
    print(outcome.path)


def _class(args) -> None:
    classifier = load_backbone(args.model, weights=args.weights)
    target = classifier.class_index(args.target)
    out = Path(args.out) / f"class_{target}_{args.model}.png"
    print(
        explain_class(
            classifier, target, out, num_iterations=args.iterations, seed=args.seed, progress=True
        )
    )


def _common(parser) -> None:
    parser.add_argument(
        "--model", choices=BACKBONES, default="efficientnet_lite0", help="classifier to explain"
    )
    parser.add_argument(
        "--weights", type=valid.existing_file, help="weights file (default: the model's usual file)"
    )
    parser.add_argument(
        "--out",
        type=valid.output_folder,
        default="explain-out",
        help="output folder (default: explain-out)",
    )


def register(groups) -> None:
    explain = groups["explain"]
    p = explain.add_parser(
        "saliency",
        help="saliency maps of images for their classes",
        description="Write the images over their saliency maps, with predicted and true class.",
    )
    p.add_argument("images", nargs="*", metavar="IMAGE", help=IMAGE_HELP)
    p.add_argument("--method", choices=list(SALIENCY_METHODS), default="vanilla")
    _common(p)
    p.set_defaults(handler=_saliency)

    p = explain.add_parser(
        "fool",
        help="a fooling image: a tiny change that flips the prediction",
        description="Write the original, the fooling image and their (10x) difference.",
    )
    p.add_argument("image", nargs="?", default="chelsea", metavar="IMAGE", help=IMAGE_HELP)
    p.add_argument(
        "--target",
        type=valid.class_name_or_index,
        required=True,
        help="target class: index or name (stingray)",
    )
    p.add_argument("--max-iterations", type=valid.positive_int, default=100)
    _common(p)
    p.set_defaults(handler=_fool)

    p = explain.add_parser(
        "class",
        help="class visualization: an image the model scores highly for a class",
        description="Gradient ascent from noise; writes snapshots and the final image.",
    )
    p.add_argument(
        "target",
        type=valid.class_name_or_index,
        metavar="CLASS",
        help="class index or name (tarantula, 76)",
    )
    p.add_argument("--iterations", type=valid.iterations, default=100)
    p.add_argument("--seed", type=valid.seed, default=0)
    _common(p)
    p.set_defaults(handler=_class)

    register_quality(explain, IMAGE_HELP, _inputs)
