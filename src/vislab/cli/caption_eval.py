"""`vislab caption eval`, `vislab data build-scenes` and `vislab data build-captions`."""

from __future__ import annotations

from pathlib import Path

from vislab.cli import arguments as valid


def _eval(args) -> None:
    from vislab.captioning.evaluation import (
        evaluate_checkpoint,
        evaluate_nearest_neighbour,
        write_evaluation,
    )
    from vislab.captioning.metrics import format_scores
    from vislab.captioning.truth_evaluation import format_truth

    if args.baseline:
        evaluation = evaluate_nearest_neighbour(
            args.data,
            num_neighbours=args.neighbours,
            max_images=args.max_images,
            progress=True,
            ceiling=True,
        )
        default_out = Path(args.data) / "eval_nearest_neighbour.json"
    else:
        evaluation = evaluate_checkpoint(
            args.checkpoint,
            args.data,
            beam_size=args.beam_size,
            device=args.device,
            max_images=args.max_images,
            progress=True,
            ceiling=True,
            decoding=_decoding(args),
        )
        checkpoint = Path(args.checkpoint)
        default_out = checkpoint.with_name(f"{checkpoint.stem}_eval_beam{args.beam_size}.json")
    # The scores are printed first: a failed write of the optional JSON does not lose them.
    print(f"{evaluation.model} on {evaluation.num_images} {evaluation.split} images")
    print(format_scores(evaluation.scores))
    print(f"references, leave-one-out: {format_scores(evaluation.reference_ceiling)}")
    for subset, scores in evaluation.truth.items():
        print(f"truth ({subset} {evaluation.split} scenes): {format_truth(scores)}")
    if evaluation.reference_truth:
        print(f"truth (the references themselves): {format_truth(evaluation.reference_truth)}")
    for example in evaluation.examples[:3]:
        print(f"  generated: {example['generated']}")
        print(f"  reference: {example['references'][0]}")
    print(f"scores: {write_evaluation(evaluation, args.out or default_out)}", flush=True)


def _decoding(args) -> dict:
    """The beam-search options given on the command line (none: the defaults)."""
    decoding = {}
    if args.length_penalty != 1.0:
        decoding["length_penalty"] = args.length_penalty
    if args.block_trigrams:
        decoding["block_trigrams"] = True
    return decoding


def _build_scenes(args) -> None:
    from vislab.captioning.sets.scenes import build_scene_captions

    out = build_scene_captions(
        args.out,
        seed=args.seed,
        num_train=args.num_train,
        num_val=args.num_val,
        fmnist_dir=args.fmnist_dir,
        progress=True,
        novel_fraction=args.novel_fraction,
    )
    print(f"scene captions: {out}")


def _build_captions(args) -> None:
    from vislab.captioning.sets.own_captions import build_own_captions

    out = build_own_captions(
        args.images,
        args.annotations,
        args.out,
        val_fraction=args.val_fraction,
        min_count=args.min_count,
        seed=args.seed,
        device=args.device,
        progress=True,
    )
    print(f"caption data: {out}")


def register(groups) -> None:
    _register_eval(groups["caption"])
    _register_builders(groups["data"])


def _register_eval(caption) -> None:
    parser = caption.add_parser(
        "eval",
        help="BLEU-1..4 and CIDEr-D of a captioner (or the nearest-neighbour baseline) on val",
        description="Caption every validation image and score the captions against all of its "
        "references with pycocoevalcap's BLEU and CIDEr-D. Prints the scores and writes JSON.",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--checkpoint", type=valid.existing_file, help="a captioner checkpoint (best.pt / last.pt)"
    )
    which.add_argument(
        "--baseline",
        choices=["nearest-neighbour"],
        help="score the nearest-neighbour baseline instead (Devlin et al. 2015)",
    )
    parser.add_argument("--data", required=True, help="the coco_captioning folder")
    parser.add_argument("--beam-size", type=valid.beam_size, default=1, help="1 = greedy decoding")
    parser.add_argument(
        "--length-penalty",
        type=valid.non_negative_float,
        default=1.0,
        help="beam search ranks by total log-probability / length ** this (1: mean per word, "
        "0: the plain total)",
    )
    parser.add_argument(
        "--block-trigrams",
        action="store_true",
        help="beam search never repeats a trigram within a caption (beam 1 included)",
    )
    parser.add_argument(
        "--neighbours", type=valid.positive_int, default=10, help="k for the baseline"
    )
    parser.add_argument(
        "--max-images", type=valid.positive_int, help="score only the first N val images"
    )
    parser.add_argument("--device", type=valid.device, default="cpu")
    parser.add_argument(
        "--out",
        type=valid.output_file_with_suffix(".json"),
        help="JSON file to write (default: beside the checkpoint)",
    )
    parser.set_defaults(handler=_eval)


def _register_builders(data) -> None:
    scenes = data.add_parser(
        "build-scenes",
        help="build the Fashion-MNIST scene caption set (coco_captioning layout)",
        description="Compose 64x64 scenes of 1-3 real Fashion-MNIST garments, write five "
        "reference captions per scene, CNN features from the pixels (raw and PCA-512) and "
        "the scene PNGs, in the course's coco_captioning layout.",
    )
    scenes.add_argument("--out", type=valid.build_folder, required=True, help="folder to write")
    scenes.add_argument("--seed", type=valid.seed, default=0)
    scenes.add_argument("--num-train", type=valid.train_scene_count, default=20_000)
    scenes.add_argument("--num-val", type=valid.scene_count, default=2_000)
    scenes.add_argument(
        "--fmnist-dir", type=valid.existing_folder, help="folder with the Fashion-MNIST IDX files"
    )
    scenes.add_argument(
        "--novel-fraction",
        type=valid.held_out_fraction,
        default=0.0,
        help="share of the 2- and 3-garment class combinations kept out of train (val scenes "
        "with an unseen combination form the novel-combinations split), below 1",
    )
    scenes.set_defaults(handler=_build_scenes)

    photos = data.add_parser(
        "build-captions",
        help="build a caption set from your own photos and a COCO-style captions JSON",
        description="Read COCO-style annotations (images: id, file_name[, split]; "
        "annotations: image_id, caption), compute EfficientNet-Lite0 features (PCA to 512, "
        "fewer when there are fewer training images) and write the coco_captioning layout.",
    )
    photos.add_argument(
        "--images", type=valid.existing_folder, required=True, help="folder holding the image files"
    )
    photos.add_argument(
        "--annotations", type=valid.existing_file, required=True, help="COCO-style captions JSON"
    )
    photos.add_argument("--out", type=valid.build_folder, required=True, help="folder to write")
    photos.add_argument(
        "--val-fraction",
        type=valid.open_fraction,
        default=0.2,
        help="share of images for validation (ignored when images have a 'split' field)",
    )
    photos.add_argument(
        "--min-count", type=valid.positive_int, default=2, help="rarer words become <UNK>"
    )
    photos.add_argument("--seed", type=valid.seed, default=0)
    photos.add_argument("--device", type=valid.device, default="cpu")
    photos.set_defaults(handler=_build_captions)
