"""The last step of both caption-set builders: PCA, vocabulary, encoding, the course's files.

Fitting happens on the training split only: the PCA axes and the vocabulary never see val.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vislab.datasets.coco import write_coco_data
from vislab.datasets.feature_pca import fit_pca
from vislab.datasets.vocabulary import build_vocabulary, encode_captions

PCA_DIM = 512


@dataclass
class SplitContent:
    """One split before encoding: per image its captions (word lists), raw features, url.

    captions: one list of word lists per image; raw_features: (num_images, D_raw) float32.
    """

    captions: list[list[list[str]]]
    raw_features: np.ndarray
    urls: list[str]


def write_caption_set(
    out_dir: str | os.PathLike,
    train: SplitContent,
    val: SplitContent,
    *,
    caption_length: int,
    min_count: int = 1,
) -> tuple[int, int]:
    """Write the `coco_captioning` files for train/val -> (PCA components, vocabulary size).

    PCA keeps PCA_DIM components, or fewer when there are fewer training images.
    """
    pca = fit_pca(train.raw_features, PCA_DIM)
    idx_to_word = build_vocabulary(
        (caption for captions in train.captions for caption in captions), min_count
    )
    word_to_idx = {word: index for index, word in enumerate(idx_to_word)}
    arrays = {}
    for split, content in (("train", train), ("val", val)):
        flat = [caption for captions in content.captions for caption in captions]
        counts = [len(captions) for captions in content.captions]
        arrays[f"{split}_captions"] = encode_captions(flat, word_to_idx, caption_length)
        arrays[f"{split}_image_idxs"] = np.repeat(np.arange(len(counts)), counts)
        arrays[f"{split}_features"] = pca.transform(content.raw_features)
        arrays[f"{split}_features_raw"] = content.raw_features
        arrays[f"{split}_urls"] = content.urls
    write_coco_data(Path(out_dir), idx_to_word=idx_to_word, **arrays)
    return int(pca.components.shape[1]), len(idx_to_word)


def reduce_grid(train: np.ndarray, val: np.ndarray, num_components: int) -> dict[str, np.ndarray]:
    """Grid features (N, L, F) of both splits -> (N, L, K): one PCA fitted on every training
    cell, K = num_components or fewer (see `fit_pca`)."""
    pca = fit_pca(train.reshape(-1, train.shape[2]), num_components)
    return {
        split: pca.transform(grid.reshape(-1, grid.shape[2])).reshape(len(grid), grid.shape[1], -1)
        for split, grid in (("train", train), ("val", val))
    }
