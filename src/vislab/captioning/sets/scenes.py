"""Fashion-MNIST scene captions: a captioning data set built from real garment images.

Each scene is a 64 x 64 grayscale canvas holding 1 to 3 real Fashion-MNIST garments (28 x 28),
each placed in a cell of a 3 x 3 grid of anchors {0, 18, 36} pixels with up to 2 pixels of
jitter and a random brightness; garments never overlap. Train scenes use only the training
images, val scenes only the test images.

Image features come from the pixels alone: the shared Fashion-MNIST CNN's `.features` on the
nine 28 x 28 windows at offsets {0, 18, 36}^2, concatenated in reading order -> 9 * 256 = 2304
raw features. The windows line up with the anchors, so a garment sits whole in one window
(shifted by at most 2 pixels, the shift the CNN was trained with) and the window's slot in
the vector says where it is; the windows in between see the parts of neighbouring garments.

Beside the course's files the build writes (see `vislab.datasets.grid_data`) the grid
features, the nine windows' vectors as (N, 9, GRID_PCA_DIM) reduced by one PCA fitted on the
training windows, and each scene's truth: (class, row, column) per garment. With
`novel_fraction`, that fraction of the multi-garment class combinations never occurs in
train; val scenes whose combination train never shows are marked `val_novel`.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations, combinations_with_replacement
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from vislab.atomic_files import atomic_folder, atomic_write_text, check_build_target
from vislab.backbones.fmnist_cnn import (
    FEATURE_DIM,
    FashionMNISTCNN,
    load_fmnist_cnn,
    weights_fingerprint,
)
from vislab.backbones.fmnist_training import images_to_tensor, predict
from vislab.captioning.sets.caption_sets import SplitContent, reduce_grid, write_caption_set
from vislab.captioning.sets.scene_captions import MAX_WORDS, describe_scene
from vislab.datasets.grid_data import write_grid_data
from vislab.datasets.mnist import load_mnist_format
from vislab.datasets.vocabulary import tokenize
from vislab.errors import InvalidInputError

logger = logging.getLogger(__name__)

CANVAS = 64  # the smallest canvas where the 3 x 3 anchors leave 8 pixels between far cells
GARMENT = 28
ANCHORS = (0, 18, 36)
JITTER = 2
NUM_WINDOWS = len(ANCHORS) ** 2
RAW_FEATURE_DIM = NUM_WINDOWS * FEATURE_DIM
CAPTION_LENGTH = MAX_WORDS + 2  # <START> + words + <END>: the course's T + 1 = 17
MANIFEST = "scenes.json"
CELLS = [(row, col) for row in range(3) for col in range(3)]
GRID_PCA_DIM = 64
NUM_CLASSES = 10
MAX_GARMENTS = 3
# Draws of a train scene's garments before its held-out combinations are deemed unavoidable
# (with 20% of the combinations held out, as benchmarks/caption_quality.py does, about one
# multi-garment draw in five is redrawn).
MAX_REDRAWS = 10_000


def _apart(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Garments in cells a and b do not overlap: two cells apart in a row or column."""
    return max(abs(a[0] - b[0]), abs(a[1] - b[1])) == 2


# Every set of 1-3 pairwise non-overlapping cells, in reading order.
LAYOUTS = {
    count: [
        c for c in combinations(CELLS, count) if all(_apart(a, b) for a, b in combinations(c, 2))
    ]
    for count in (1, 2, 3)
}


@dataclass
class SceneSet:
    """Scenes of one split: canvases (N, 64, 64) uint8, and per scene the garments' source
    image indices, grid cells (reading order) and top-left pixel offsets."""

    canvases: np.ndarray
    sources: list[list[int]]
    cells: list[list[tuple[int, int]]]


def sample_scenes(
    images: np.ndarray,
    num_scenes: int,
    rng: np.random.Generator,
    progress: bool = False,
    accept: Callable[[list[int]], bool] | None = None,
) -> SceneSet:
    """Compose num_scenes scenes from images: (M, 28, 28) uint8, drawing from rng only.

    Labels are never consulted, so the pixels do not depend on what the captions will say;
    only `accept(source indices)`, when given, redraws the garments of a scene it rejects
    (how held-out class combinations stay out of train).
    """
    canvases = np.zeros((num_scenes, CANVAS, CANVAS), dtype=np.uint8)
    sources, cells = [], []
    for n in tqdm(range(num_scenes), desc="composing scenes", disable=not progress):
        count = int(rng.integers(1, 4))
        layout = LAYOUTS[count][int(rng.integers(len(LAYOUTS[count])))]
        chosen = rng.integers(len(images), size=count).tolist()
        for _ in range(MAX_REDRAWS):
            if accept is None or accept(chosen):
                break
            chosen = rng.integers(len(images), size=count).tolist()
        else:
            raise InvalidInputError(
                f"no {count}-garment scene avoids the held-out class combinations in "
                f"{MAX_REDRAWS:,} draws; hold out fewer (a lower --novel-fraction)"
            )
        jitter = rng.integers(-JITTER, JITTER + 1, size=(count, 2))
        brightness = rng.uniform(0.6, 1.0, size=count)
        for (row, col), index, (dy, dx), scale in zip(
            layout, chosen, jitter, brightness, strict=True
        ):
            y = int(np.clip(ANCHORS[row] + dy, 0, CANVAS - GARMENT))
            x = int(np.clip(ANCHORS[col] + dx, 0, CANVAS - GARMENT))
            patch = (images[index] * scale).astype(np.uint8)
            region = canvases[n, y : y + GARMENT, x : x + GARMENT]
            np.maximum(region, patch, out=region)
        sources.append(chosen)
        cells.append(list(layout))
    return SceneSet(canvases, sources, cells)


@torch.inference_mode()
def scene_features(
    cnn: FashionMNISTCNN, canvases: np.ndarray, batch_size: int = 256, progress: bool = False
) -> np.ndarray:
    """canvases: (N, 64, 64) uint8 -> (N, 2304) float32 CNN features of the nine windows.

    Blank windows all share one feature vector, computed once.
    """
    if canvases.ndim != 3 or canvases.shape[1:] != (CANVAS, CANVAS):
        raise InvalidInputError(f"expected canvases (N, {CANVAS}, {CANVAS}), got {canvases.shape}")
    model = copy.deepcopy(cnn).eval().to(memory_format=torch.channels_last)  # ~1.5x faster
    windows = np.stack(
        [canvases[:, y : y + GARMENT, x : x + GARMENT] for y in ANCHORS for x in ANCHORS], axis=1
    ).reshape(-1, GARMENT, GARMENT)  # (N * 9, 28, 28), reading order within each scene
    blank = windows.reshape(len(windows), -1).max(axis=1) == 0
    out = np.empty((len(windows), FEATURE_DIM), dtype=np.float32)
    out[blank] = _features(model, np.zeros((1, GARMENT, GARMENT), np.uint8))
    busy = np.flatnonzero(~blank)
    for start in tqdm(
        range(0, len(busy), batch_size), desc="CNN features", disable=not progress, unit="batch"
    ):
        rows = busy[start : start + batch_size]
        out[rows] = _features(model, windows[rows])
    return out.reshape(len(canvases), RAW_FEATURE_DIM)


def _features(model: FashionMNISTCNN, windows: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(windows).float().div_(255.0).unsqueeze(1)  # (B, 1, 28, 28)
    return model.features(x.contiguous(memory_format=torch.channels_last)).numpy()


def scene_captions(
    scenes: SceneSet, labels: np.ndarray, rng: np.random.Generator
) -> list[list[str]]:
    """Five reference captions per scene from the garments' labels: (M,) class per image."""
    return [
        describe_scene([int(labels[i]) for i in sources], cells, rng)
        for sources, cells in zip(scenes.sources, scenes.cells, strict=True)
    ]


def scene_truth(scenes: SceneSet, labels: np.ndarray) -> np.ndarray:
    """(num_scenes, MAX_GARMENTS, 3) int16: (class, row, column) per garment, -1-padded."""
    truth = np.full((len(scenes.sources), MAX_GARMENTS, 3), -1, dtype=np.int16)
    for n, (sources, cells) in enumerate(zip(scenes.sources, scenes.cells, strict=True)):
        for g, (index, (row, col)) in enumerate(zip(sources, cells, strict=True)):
            truth[n, g] = (labels[index], row, col)
    return truth


@torch.inference_mode()
def read_garments(cnn: FashionMNISTCNN, canvases: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """What the CNN itself names at each garment's place: truth (N, G, 3) with every class
    replaced by the CNN's class for the window at the garment's cell (the window its grid
    feature is computed from); cells and the -1 padding are kept.

    Captions written from this reading (`describe_truth`) bound what a captioner that reads
    the CNN's features can score against the truth when it knows exactly where each garment is.
    """
    if canvases.ndim != 3 or canvases.shape[1:] != (CANVAS, CANVAS) or len(truth) != len(canvases):
        raise InvalidInputError(
            f"expected canvases (N, {CANVAS}, {CANVAS}) and truth (N, G, 3), got "
            f"{canvases.shape} and {truth.shape}"
        )
    scene, slot = np.nonzero(truth[:, :, 0] >= 0)
    rows = np.asarray(ANCHORS)[truth[scene, slot, 1]]
    cols = np.asarray(ANCHORS)[truth[scene, slot, 2]]
    offsets = np.arange(GARMENT)
    windows = canvases[
        scene[:, None, None],
        (rows[:, None] + offsets)[:, :, None],
        (cols[:, None] + offsets)[:, None, :],
    ]
    read = truth.copy()
    if len(windows):
        read[scene, slot, 0] = predict(cnn, images_to_tensor(np.ascontiguousarray(windows))).numpy()
    return read


def combination(classes) -> tuple[int, ...]:
    """A scene's combination of classes: the sorted multiset, e.g. (7, 7, 8)."""
    return tuple(sorted(int(c) for c in classes))


def held_out_combinations(fraction: float, rng: np.random.Generator) -> set[tuple[int, ...]]:
    """`fraction` of the multi-garment combinations (multisets of 2 or 3 of the 10 classes:
    55 + 220), drawn from rng: train never shows them."""
    if not 0 <= fraction < 1:
        raise InvalidInputError(f"novel_fraction must be in [0, 1), got {fraction}")
    pool = [
        c for k in (2, MAX_GARMENTS) for c in combinations_with_replacement(range(NUM_CLASSES), k)
    ]
    chosen = rng.choice(len(pool), size=round(fraction * len(pool)), replace=False)
    return {pool[int(i)] for i in chosen}


def grid_features(train_raw: np.ndarray, val_raw: np.ndarray) -> dict[str, np.ndarray]:
    """Raw scene features (N, 9 * 256) -> per-window vectors (N, 9, GRID_PCA_DIM), one PCA
    fitted on all training windows."""
    return reduce_grid(
        train_raw.reshape(len(train_raw), NUM_WINDOWS, FEATURE_DIM),
        val_raw.reshape(len(val_raw), NUM_WINDOWS, FEATURE_DIM),
        GRID_PCA_DIM,
    )


def write_scene_pngs(
    canvases: np.ndarray,
    folder: Path,
    progress: bool = False,
    desc: str = "writing PNGs",
    url_folder: Path | None = None,
) -> list[str]:
    """Write canvases (N, 64, 64) uint8 as folder/000000.png ...; return their file:// URLs,
    in `url_folder` when given (where the folder will be once the build is moved in place).

    Not one atomic write per file (an fsync each would make this the slowest step): the
    build's manifest, written last, is what marks the PNGs complete.
    """
    folder.mkdir(parents=True, exist_ok=True)
    url_folder = (url_folder or folder).resolve()
    urls = []
    for index, canvas in enumerate(tqdm(canvases, desc=desc, disable=not progress)):
        name = f"{index:06d}.png"
        Image.fromarray(canvas).save(folder / name, format="PNG", compress_level=1)
        urls.append((url_folder / name).as_uri())
    return urls


def build_scene_captions(
    out_dir: str | os.PathLike,
    *,
    seed: int = 0,
    num_train: int = 20_000,
    num_val: int = 2_000,
    fmnist_dir: str | os.PathLike | None = None,
    cnn: FashionMNISTCNN | None = None,
    progress: bool = False,
    novel_fraction: float = 0.0,
) -> Path:
    """Build the scene caption set in the course's `coco_captioning` layout under out_dir.

    Writes the caption/feature/vocab/url files (see `vislab.datasets.coco`), the PNGs under
    `images/{train,val}/`, and last `scenes.json` (the build parameters and the CNN's
    `weights_fingerprint`; its presence marks a finished build). The whole folder is built
    in a temporary sibling and moved in place when complete, so an interrupted build leaves
    the previous one (or none). The same seed gives the same files. `cnn` defaults to the
    shipped CNN. Also the grid features and the truth (module docstring); `novel_fraction`
    of the multi-garment class combinations are kept out of train.
    """
    if num_train < 2 or num_val < 1:
        raise InvalidInputError(f"need num_train >= 2 and num_val >= 1, got {num_train}, {num_val}")
    check_build_target(out_dir, MANIFEST)
    cnn = cnn if cnn is not None else load_fmnist_cnn()
    with atomic_folder(out_dir, MANIFEST) as building:
        _write_scene_set(building, Path(out_dir), cnn, seed, num_train, num_val, fmnist_dir,
                         progress, novel_fraction)  # fmt: skip
    logger.info("wrote %d train and %d val scenes to %s", num_train, num_val, out_dir)
    return Path(out_dir)


def _write_scene_set(
    out, final, cnn, seed, num_train, num_val, fmnist_dir, progress, novel_fraction
) -> None:
    """Everything build_scene_captions writes, into `out`; urls point into `final`."""
    # Independent streams, so val scenes do not change with num_train and captions never
    # influence the pixels.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    held_out = held_out_combinations(novel_fraction, streams[4])
    splits, truth = {}, {}
    for split, source, count, layout_rng, caption_rng in (
        ("train", "train", num_train, streams[0], streams[1]),
        ("val", "test", num_val, streams[2], streams[3]),
    ):
        images, labels = load_mnist_format(fmnist_dir, source)
        accept = None
        if split == "train" and held_out:

            def accept(chosen, labels=labels):
                return combination(labels[chosen]) not in held_out

        scenes = sample_scenes(images, count, layout_rng, progress, accept)
        truth[f"{split}_truth"] = scene_truth(scenes, labels)
        urls = write_scene_pngs(
            scenes.canvases, out / "images" / split, progress, f"{split} PNGs",
            url_folder=final / "images" / split,
        )  # fmt: skip
        raw = scene_features(cnn, scenes.canvases, progress=progress)
        words = [
            [tokenize(c) for c in caps] for caps in scene_captions(scenes, labels, caption_rng)
        ]
        splits[split] = SplitContent(words, raw, urls)
    components, vocab_size = write_caption_set(
        out, splits["train"], splits["val"], caption_length=CAPTION_LENGTH
    )
    seen = {combination(t[t[:, 0] >= 0, 0]) for t in truth["train_truth"]}
    truth["val_novel"] = [combination(t[t[:, 0] >= 0, 0]) not in seen for t in truth["val_truth"]]
    truth["train_novel"] = np.zeros(num_train, dtype=bool)
    grid = grid_features(splits["train"].raw_features, splits["val"].raw_features)
    write_grid_data(out, grid, truth)
    manifest = {
        "kind": "fashion-mnist scenes",
        "seed": seed,
        "num_train": num_train,
        "num_val": num_val,
        "canvas": CANVAS,
        "anchors": list(ANCHORS),
        "raw_feature_dim": RAW_FEATURE_DIM,
        "pca_components": components,
        "vocab_size": vocab_size,
        "grid_feature_dim": int(grid["train"].shape[2]),
        "novel_fraction": novel_fraction,
        "num_novel_val": int(np.sum(truth["val_novel"])),
        "cnn_weights": weights_fingerprint(cnn),
    }
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2))


def is_built(out_dir: str | os.PathLike, cnn: FashionMNISTCNN | None = None) -> bool:
    """Whether out_dir holds a finished scene build whose features came from `cnn` (default:
    the shipped CNN); a build from other weights is stale and must be rebuilt."""
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        return False
    try:
        recorded = json.loads(path.read_text(encoding="utf-8")).get("cnn_weights")
    except (ValueError, AttributeError):
        return False
    return recorded == weights_fingerprint(cnn if cnn is not None else load_fmnist_cnn())
