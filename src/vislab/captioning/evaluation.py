"""Score a captioner on the validation split: BLEU-1..4 and CIDEr-D against all references.

Works for anything with `.sample(features (N, D), max_length, beam_size) -> ids (N, L)` and
`.idx_to_word`: a checkpoint loaded with `load_captioner`, or the nearest-neighbour baseline.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vislab.atomic_files import atomic_write_text
from vislab.captioning.metrics import caption_scores
from vislab.captioning.nearest_neighbour import NearestNeighbourCaptioner
from vislab.captioning.truth_evaluation import (
    reference_ceiling,
    reference_truth_scores,
    truth_report,
)
from vislab.datasets.coco import load_coco_data
from vislab.datasets.grid_data import split_features
from vislab.datasets.vocabulary import decode_words
from vislab.errors import InvalidInputError

logger = logging.getLogger(__name__)


@dataclass
class CaptionEvaluation:
    """Scores on one split and a few examples (url, generated caption, references)."""

    model: str
    split: str
    beam_size: int
    num_images: int
    scores: dict[str, float]
    examples: list[dict] = field(default_factory=list)
    source: str = ""
    # Scene sets only (see truth_evaluation): truth scores per subset ("all", "seen", "novel"),
    # the references' own truth scores, and their leave-one-out BLEU/CIDEr-D ceiling.
    truth: dict = field(default_factory=dict)
    reference_truth: dict = field(default_factory=dict)
    reference_ceiling: dict = field(default_factory=dict)
    decoding: dict = field(default_factory=dict)  # beam-search options, when not the defaults

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def references_by_image(
    captions: np.ndarray, image_idxs: np.ndarray, idx_to_word: list[str]
) -> dict[int, list[str]]:
    """captions: (N, T+1) ids, image_idxs: (N,) -> image row -> its reference captions."""
    references: dict[int, list[str]] = {}
    for image, caption in zip(np.asarray(image_idxs).tolist(), captions, strict=True):
        references.setdefault(int(image), []).append(decode_words(caption, idx_to_word))
    return references


def generate_captions(
    captioner,
    features: np.ndarray,
    *,
    max_length: int,
    beam_size: int = 1,
    batch_size: int = 500,
    progress: bool = False,
    decoding: dict | None = None,
) -> list[str]:
    """features: (N, D) -> N generated captions as text (words between `<START>`/`<END>`).

    decoding: beam-search options passed to `sample` (length_penalty, block_trigrams)."""
    texts = []
    for start in tqdm(
        range(0, len(features), batch_size), desc="captioning", disable=not progress, unit="batch"
    ):
        ids = captioner.sample(
            features[start : start + batch_size],
            max_length=max_length,
            beam_size=beam_size,
            **(decoding or {}),
        )
        texts += [decode_words(row, captioner.idx_to_word) for row in np.asarray(ids)]
    return texts


def evaluate_captioner(
    captioner,
    data: dict,
    *,
    split: str = "val",
    beam_size: int = 1,
    max_images: int | None = None,
    num_examples: int = 8,
    progress: bool = False,
    ceiling: bool = False,
    decoding: dict | None = None,
) -> CaptionEvaluation:
    """Caption every image of `split` (that has references) and score against all of them.

    data: the dict of `load_coco_data`; max_images keeps the first images (a quick look).
    With truth in data, also the truth scores; with `ceiling`, the references' own scores.
    """
    if split not in ("train", "val"):
        raise InvalidInputError(f"split must be 'train' or 'val', got {split!r}")
    references = references_by_image(
        data[f"{split}_captions"], data[f"{split}_image_idxs"], data["idx_to_word"]
    )
    if max_images is not None and max_images < 1:  # 0 must not mean "all"
        raise InvalidInputError(f"max_images must be at least 1, got {max_images}")
    images = sorted(references)[:max_images]
    features = split_features(data, split, getattr(captioner, "feature_layout", "vector"))
    features = features[images]
    max_length = data[f"{split}_captions"].shape[1] - 1
    generated = generate_captions(
        captioner,
        features,
        max_length=max_length,
        beam_size=beam_size,
        progress=progress,
        decoding=decoding,
    )
    candidates = dict(zip(images, generated, strict=True))
    scores = caption_scores({i: references[i] for i in images}, candidates)
    urls = data.get(f"{split}_urls")
    examples = [
        {
            "image": int(i),
            "url": str(urls[i]) if urls is not None else "",
            "generated": candidates[i],
            "references": references[i],
        }
        for i in images[:num_examples]
    ]
    model = getattr(captioner, "model_name", type(captioner).__name__)
    logger.info("%s on %d %s images: %s", model, len(images), split, scores)
    evaluation = CaptionEvaluation(model, split, beam_size, len(images), scores, examples)
    evaluation.truth = truth_report(data, split, images, generated)
    if ceiling:
        scored = {i: references[i] for i in images}
        evaluation.reference_ceiling = reference_ceiling(scored)
        evaluation.reference_truth = reference_truth_scores(data, split, scored)
    return evaluation


def evaluate_checkpoint(
    checkpoint: str | os.PathLike,
    data_dir: str | os.PathLike,
    *,
    beam_size: int = 1,
    device: str = "cpu",
    max_images: int | None = None,
    progress: bool = False,
    ceiling: bool = False,
    decoding: dict | None = None,
) -> CaptionEvaluation:
    """Load a captioner checkpoint and score it on the val split of data_dir (decoding:
    length_penalty, block_trigrams for beam search)."""
    from vislab.captioning.captioners import load_captioner

    captioner = load_captioner(checkpoint, device=device)
    data = load_coco_data(data_dir, pca_features=True)
    _check_vocabulary(captioner, data, checkpoint)
    evaluation = evaluate_captioner(
        captioner,
        data,
        beam_size=beam_size,
        max_images=max_images,
        progress=progress,
        ceiling=ceiling,
        decoding=decoding,
    )
    evaluation.decoding = dict(decoding or {})
    evaluation.source = str(checkpoint)
    return evaluation


def evaluate_nearest_neighbour(
    data_dir: str | os.PathLike,
    *,
    num_neighbours: int = 10,
    max_images: int | None = None,
    progress: bool = False,
    ceiling: bool = False,
) -> CaptionEvaluation:
    """Score the nearest-neighbour baseline (k training images, consensus caption) on val."""
    data = load_coco_data(data_dir, pca_features=True)
    baseline = NearestNeighbourCaptioner(
        data["train_features"],
        data["train_captions"],
        data["train_image_idxs"],
        data["idx_to_word"],
        num_neighbours=num_neighbours,
    )
    evaluation = evaluate_captioner(
        baseline, data, max_images=max_images, progress=progress, ceiling=ceiling
    )
    evaluation.source = f"nearest-neighbour, k={baseline.num_neighbours}"
    return evaluation


def _check_vocabulary(captioner, data: dict, checkpoint) -> None:
    if list(captioner.idx_to_word) != list(data["idx_to_word"]):
        raise InvalidInputError(
            f"{checkpoint} was trained with a different vocabulary than the data folder "
            "(evaluate it on the data it was trained on)"
        )


def write_evaluation(evaluation: CaptionEvaluation, path: str | os.PathLike) -> Path:
    """Write the evaluation as JSON, atomically."""
    return atomic_write_text(path, evaluation.to_json())
