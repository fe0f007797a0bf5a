"""Valid files of every format vislab reads, written small: the seeds the fuzzer mutates.

`write_seeds(folder)` writes them all (about 5 s on one core, most of it three one-epoch
trainings) and returns {name: path}.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vislab.captioning.captioners import train_captioner
from vislab.datasets.coco import VOCAB_FILE, write_coco_data
from vislab.datasets.grid_data import write_grid_data
from vislab.datasets.idx import write_idx
from vislab.gan.registry import GanConfig
from vislab.gan.resumable import train_gan

WORDS = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "cat", "dog", "on", "mat"]


def _coco(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    captions = np.zeros((20, 8), np.int32)
    captions[:, 0], captions[:, 1:4], captions[:, 4] = 1, rng.integers(4, 9, (20, 3)), 2
    features = rng.standard_normal((10, 16)).astype(np.float32)
    urls = []
    for index in range(10):
        path = folder / "images" / f"{index}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(path)
        urls.append(str(path))
    coco = write_coco_data(
        folder / "coco",
        train_captions=captions,
        train_image_idxs=np.arange(20) % 10,
        val_captions=captions[:6],
        val_image_idxs=np.arange(6) % 4,
        train_features=features,
        val_features=features[:4],
        idx_to_word=WORDS,
        train_urls=urls,
        val_urls=urls[:4],
    )
    grid = {"train": rng.random((10, 4, 6)), "val": rng.random((4, 4, 6))}
    garments = np.stack([rng.integers(0, 10, (10, 3)), *rng.integers(0, 3, (2, 10, 3))], axis=2)
    garments[:, 2] = -1  # (class, row, column) per garment; the third slot is padding
    truth = {"train_truth": garments, "val_truth": np.zeros((4, 3, 3)),
             "val_novel": np.array([True, False, False, True])}  # fmt: skip
    write_grid_data(coco, grid, truth)
    return coco


def _images(folder: Path) -> dict[str, Path]:
    pixels = np.random.default_rng(1).integers(0, 255, (12, 10, 3), dtype=np.uint8)
    paths = {}
    for kind in ("png", "jpeg", "gif"):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format=kind.upper())
        paths[f"image.{kind}"] = folder / f"image.{kind}"
        paths[f"image.{kind}"].write_bytes(buffer.getvalue())
    return paths


def _annotations(folder: Path) -> Path:
    images = [
        {"id": i, "file_name": f"{i}.png", "split": "train" if i else "val"} for i in range(3)
    ]
    captions = [{"image_id": i, "caption": f"a cat number {i}"} for i in range(3)]
    path = folder / "captions.json"
    path.write_text(json.dumps({"images": images, "annotations": captions}))
    return path


def _npz(folder: Path) -> Path:
    path = folder / "imagenet_val.npz"
    images = np.random.default_rng(2).integers(0, 255, (2, 8, 8, 3), dtype=np.uint8)
    np.savez(path, X=images, y=np.array([3, 7]), class_ids=np.array([3, 7]),
             class_names=np.array(["tabby", "stingray"]))  # fmt: skip
    return path


def _checkpoints(folder: Path, coco: Path) -> dict[str, Path]:
    small = {"epochs": 1, "batch_size": 10, "seed": 0}
    rnn = train_captioner("rnn", coco, folder / "rnn", hidden_dim=8, wordvec_dim=4,
                          blas_threads=1, **small)  # fmt: skip
    transformer = train_captioner("transformer", coco, folder / "transformer", wordvec_dim=8,
                                  num_heads=2, num_layers=1, max_length=8, **small)  # fmt: skip
    images = torch.rand(32, 1, 28, 28) * 2 - 1
    config = GanConfig(model="fc", epochs=1, batch_size=16, num_train=32, show_every=1000)
    gan = train_gan(images, config, folder / "gan")
    return {
        "rnn.pt": rnn.best_checkpoint,
        "transformer.pt": transformer.best_checkpoint,
        "gan.pt": gan.checkpoint,
    }


def write_seeds(folder: Path) -> dict[str, Path]:
    """Every seed file under `folder`, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    array = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    seeds = {
        "idx": write_idx(folder / "images-idx3-ubyte", array),
        "idx.gz": write_idx(folder / "images-idx3-ubyte.gz", array),
        "annotations.json": _annotations(folder),
        "imagenet.npz": _npz(folder),
        **_images(folder),
    }
    coco = _coco(folder)
    seeds["coco"] = coco
    seeds["vocab.json"] = coco / VOCAB_FILE
    seeds.update(_checkpoints(folder, coco))
    return seeds
