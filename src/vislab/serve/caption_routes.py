"""Compose a 3 x 3 scene of Fashion-MNIST garments and caption it with each trained captioner.

A scene is built the way the scene caption set builds them (garments at the grid anchors on a
64 x 64 canvas), turned into the set's features (the nine CNN windows, then the set's PCA,
refitted from its stored raw training features and checked against its stored projections),
and captioned by every captioner whose vocabulary is that set's.
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request
from PIL import Image
from pydantic import BaseModel, Field

from vislab.backbones.fmnist_cnn import FEATURE_DIM, load_fmnist_cnn
from vislab.captioning import decode_captions, load_captioner, load_coco_data
from vislab.captioning.grounding import teacher_forced
from vislab.captioning.sets.caption_sets import PCA_DIM
from vislab.captioning.sets.scenes import (
    ANCHORS,
    CANVAS,
    CELLS,
    GARMENT,
    GRID_PCA_DIM,
    LAYOUTS,
    NUM_WINDOWS,
    scene_features,
)
from vislab.class_names import FASHION_MNIST_CLASSES
from vislab.datasets.feature_pca import fit_pca
from vislab.datasets.mnist import load_mnist_format
from vislab.errors import CorruptFileError, InvalidInputError, VislabError
from vislab.serve.lab import Lab
from vislab.serve.pictures import png_data_url, saliency_overlay

router = APIRouter(prefix="/api")
RANDOM, EMPTY = -1, None
SPECIAL_WORDS = ("<START>", "<END>", "<NULL>")


class SceneRequest(BaseModel):
    """cells: 9 entries in reading order, None (empty), -1 (any garment) or a class 0..9;
    no cells: a random scene of 1 to 3 garments laid out as in the caption set."""

    cells: list[int | None] | None = Field(None, min_length=9, max_length=9)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    beam_size: int = Field(1, ge=1, le=5)


class SceneSet:
    """A scene caption set's vocabulary and its two PCAs (flat scene vectors and per-window
    grid vectors), refitted once from its raw training features as the builder fits them and
    checked against the projections it stored."""

    def __init__(self, folder):
        raw = load_coco_data(folder, pca_features=False)
        stored = load_coco_data(folder)
        self.folder = folder
        self.word_to_idx = raw["word_to_idx"]
        train = raw["train_features"]  # (N, 9 * 256)
        self.flat = fit_pca(train, PCA_DIM)
        self._check(self.flat.transform(train[:8]), stored["train_features"][:8])
        self.grid = None
        if "train_grid_features" in stored:
            self.grid = fit_pca(train.reshape(-1, FEATURE_DIM), GRID_PCA_DIM)
            windows = self.grid.transform(train[:8].reshape(-1, FEATURE_DIM))
            self._check(windows.reshape(8, NUM_WINDOWS, -1), stored["train_grid_features"][:8])

    def _check(self, refitted: np.ndarray, stored: np.ndarray) -> None:
        if refitted.shape != stored.shape or not np.allclose(refitted, stored, atol=1e-3):
            raise CorruptFileError(
                f"{self.folder}: the PCA refitted on its raw features does not give its stored "
                "features; rebuild it with `vislab data build-scenes`"
            )

    def features(self, raw: np.ndarray, layout: str) -> np.ndarray:
        """raw: (N, 9 * 256) scene features -> (N, D) flat or (N, 9, F) grid captioner input."""
        if layout != "grid":
            return self.flat.transform(raw)
        if self.grid is None:
            raise InvalidInputError(
                f"{self.folder} has no grid features; rebuild it with `vislab data build-scenes`"
            )
        windows = self.grid.transform(raw.reshape(-1, FEATURE_DIM))
        return windows.reshape(len(raw), NUM_WINDOWS, -1)


def _garments(lab: Lab) -> tuple[np.ndarray, np.ndarray]:
    return lab.cached("fmnist-test", lambda: load_mnist_format(None, "test"))


def compose(lab: Lab, request: SceneRequest) -> tuple[np.ndarray, list]:
    """The canvas (64, 64) uint8 and, per cell, None or {class, name}."""
    images, labels = _garments(lab)
    rng = np.random.default_rng(request.seed)
    cells = request.cells
    if cells is None:
        count = int(rng.integers(1, 4))
        layout = LAYOUTS[count][int(rng.integers(len(LAYOUTS[count])))]
        cells = [RANDOM if cell in layout else EMPTY for cell in CELLS]
    canvas = np.zeros((CANVAS, CANVAS), dtype=np.uint8)
    placed = []
    for (row, col), wanted in zip(CELLS, cells, strict=True):
        if wanted is EMPTY:
            placed.append(None)
            continue
        if not RANDOM <= wanted < len(FASHION_MNIST_CLASSES):
            raise InvalidInputError(
                f"cell {row * 3 + col}: {wanted} is neither -1 (any garment) nor a class 0..9"
            )
        pool = np.flatnonzero(labels == wanted) if wanted != RANDOM else np.arange(len(labels))
        index = int(rng.choice(pool))
        y, x = ANCHORS[row], ANCHORS[col]
        region = canvas[y : y + GARMENT, x : x + GARMENT]
        np.maximum(region, images[index], out=region)
        label = int(labels[index])
        placed.append({"class": label, "name": FASHION_MNIST_CLASSES[label]})
    return canvas, placed


def caption_scene(lab: Lab, request: SceneRequest) -> dict:
    canvas, placed = compose(lab, request)
    catalog = lab.catalog()
    cnn = lab.cached("fmnist-cnn", load_fmnist_cnn)
    raw = scene_features(cnn, canvas[None])  # (1, 2304)
    sets = {
        name: lab.cached(("scenes", folder), lambda folder=folder: SceneSet(folder))
        for name, folder in catalog.scene_sets.items()
    }
    captions = [_caption(lab, name, path, sets, raw, canvas, request.beam_size)
                for name, path in catalog.captioners.items()]  # fmt: skip
    return {
        "scene": png_data_url(canvas, min_size=256),
        "cells": placed,
        "captions": captions,
        "missing": catalog.missing().get("caption"),
    }


def _caption(
    lab: Lab, name: str, path, sets: dict, raw: np.ndarray, canvas: np.ndarray, beam_size: int
) -> dict:
    """One captioner's caption of the scene, or the reason it has none."""
    answer = {"captioner": name, "model": None, "caption": None, "problem": None, "grounding": []}
    try:
        key = ("captioner", path, path.stat().st_mtime_ns)
        captioner = lab.cached(key, lambda: load_captioner(path))
        answer["model"] = captioner.model_name
        match = next((s for s in sets.values() if s.word_to_idx == captioner.word_to_idx), None)
        if match is None:
            answer["problem"] = "no scene caption set with its vocabulary is in the runs folder"
            return answer
        layout = getattr(captioner, "feature_layout", "flat")
        ids = captioner.sample(match.features(raw, layout), beam_size=beam_size)
    except VislabError as error:
        answer["problem"] = str(error)
        return answer
    words = decode_captions(ids[0], captioner.idx_to_word).split()
    answer["caption"] = " ".join(w for w in words if w not in SPECIAL_WORDS)
    if layout == "grid" and hasattr(captioner.model, "step_with_attention"):
        answer["grounding"] = _grounding(captioner, match.features(raw, layout), ids[:1], canvas)
    return answer


def _grounding(captioner, features: np.ndarray, ids: np.ndarray, canvas: np.ndarray) -> list:
    """Per generated word, the scene under the attention the model paid before it.

    features: (1, 9, F); ids: (1, T) generated words; canvas: (64, 64) uint8.
    """
    _, alphas = teacher_forced(captioner.model, features, ids)  # (1, T, 9)
    scene = Image.fromarray(canvas).convert("RGB")
    panels = []
    for t, index in enumerate(ids[0].tolist()):
        word = captioner.idx_to_word[index]
        if word in SPECIAL_WORDS:
            break
        cells = (alphas[0, t].reshape(3, 3) * 255 / max(alphas[0, t].max(), 1e-12)).astype(np.uint8)
        heat = Image.fromarray(cells).resize(scene.size, Image.Resampling.BILINEAR)
        overlay = saliency_overlay(scene, np.asarray(heat, dtype=np.float32))
        panels.append({"word": word, "image": png_data_url(overlay, min_size=96)})
    return panels


@router.post("/scene")
async def scene_route(request: Request, body: SceneRequest) -> dict:
    lab: Lab = request.app.state.lab
    return await lab.pool.run(caption_scene, lab, body)


def caption_status() -> dict:
    return {"garment_classes": list(FASHION_MNIST_CLASSES)}
