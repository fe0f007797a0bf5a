"""The GAN part of `vislab demo`: fc+bce, fc+ls and dc+bce on Fashion-MNIST, measured.

Each run trains with `train_gan` into its own folder (resumable: an interrupted demo goes
on from the last epoch; a finished run is reused unless `fresh`), then FID (Fashion-MNIST
CNN features) and classifier statistics are measured once and cached in quality.json.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from io import BytesIO
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from vislab.atomic_files import atomic_write_bytes, atomic_write_text
from vislab.backbones import load_fmnist_cnn
from vislab.backbones.fmnist_cnn import weights_fingerprint
from vislab.datasets import FASHION_MNIST_CLASSES
from vislab.demo.budgets import GanBudget, budget_for
from vislab.gan.checkpoints import load_generator
from vislab.gan.data import NUM_TRAIN, load_gan_images
from vislab.gan.fid import FID_LABEL, measure_quality
from vislab.gan.images import deprocess_img, show_images
from vislab.gan.models import sample_noise
from vislab.gan.registry import GanConfig
from vislab.gan.resumable import train_gan
from vislab.gan.sampling import generate
from vislab.report import Figure, Section, Table

logger = logging.getLogger(__name__)

RUNS = (("fc", "bce"), ("fc", "ls"), ("dc", "bce"))


def _progress_strip(grids: list[Path], path: Path, keep: int = 5, cells: int = 4) -> Path:
    """Top-left cells x cells corner of up to `keep` grids, side by side with a gap."""
    chosen = [grids[int(i)] for i in np.linspace(0, len(grids) - 1, min(keep, len(grids)))]
    crops = []
    for grid in chosen:
        with Image.open(grid) as picture:
            step = picture.width // 8 + 1  # 8 columns of (28 + 1) * scale pixels, last gap cut
            crops.append(np.asarray(picture.crop((0, 0, cells * step, cells * step))))
    gap = np.full((crops[0].shape[0], 12), 255, dtype=np.uint8)
    strip = np.concatenate([part for crop in crops for part in (crop, gap)][:-1], axis=1)
    data = BytesIO()
    Image.fromarray(strip).save(data, format="PNG")
    return atomic_write_bytes(path, data.getvalue())


def _train_one(model, loss, budget: GanBudget, images, folder, fresh) -> dict:
    """Train (or reuse) one run; return its summary (quality.json once measured).

    Training seconds add up over interrupted and resumed calls (time.json).
    """
    if fresh and folder.exists():
        shutil.rmtree(folder)
    if (folder / "quality.json").exists():
        return json.loads((folder / "quality.json").read_text())
    config = GanConfig(
        model=model, loss=loss, epochs=budget.epochs[model],
        show_every=budget.show_every[model], num_train=budget.num_train,
        batch_size=budget.batch_size,
    )  # fmt: skip
    start = time.perf_counter()
    run = train_gan(images, config, folder, resume=True, progress=True)
    time_path = folder / "time.json"
    seconds = time.perf_counter() - start
    if time_path.exists():
        seconds += json.loads(time_path.read_text())["train_seconds"]
    atomic_write_text(time_path, json.dumps({"train_seconds": seconds}))
    return {
        "config": config.to_dict(),
        "train_seconds": seconds,
        "iterations": len(run.history["d_loss"]),
    }


def _measure(summary, folder, real, cnn, budget: GanBudget) -> dict:
    """Add FID and classifier statistics of `budget.fid_samples` samples to a run summary."""
    G, config = load_generator(folder / "last.pt")
    noise = sample_noise(
        budget.fid_samples, config.noise_dim, generator=torch.Generator().manual_seed(0)
    )
    fake = deprocess_img(generate(G, noise)).view(-1, 1, 28, 28).clamp(0, 1)
    quality = measure_quality(fake, real, cnn)
    summary.update(fid=quality.fid, mean_confidence=quality.mean_confidence,
                   class_histogram=quality.class_histogram, num_generated=len(fake),
                   cnn_weights=weights_fingerprint(cnn))  # fmt: skip
    atomic_write_text(folder / "quality.json", json.dumps(summary))
    return summary


def _run_section(model, loss, folder, summary) -> tuple[list[Figure], list[object]]:
    grids = sorted((folder / "samples").glob("iter_*.png")) + [folder / "samples" / "final.png"]
    strip = _progress_strip(grids, folder / "progress.png")
    name = f"{model} + {loss}"
    config = GanConfig.from_dict(summary["config"])
    iterations = [int(p.stem.split("_")[1]) for p in grids[:-1]]
    figures = [
        Figure(strip, f"{name}: the same 16 noise vectors through training "
               f"(snapshots among iterations {iterations[0]}..{iterations[-1]}, then the end)."),
        Figure(folder / "samples" / "final.png", f"{name}: 64 samples from fixed noise after "
               f"{config.epochs} epoch(s)."),
        Figure(folder / "loss_curve.png", f"{name}: discriminator and generator losses."),
    ]  # fmt: skip
    top = int(np.argmax(summary["class_histogram"]))
    share = summary["class_histogram"][top] / max(sum(summary["class_histogram"]), 1)
    row = [name, config.epochs, summary["iterations"], round(summary["train_seconds"], 1),
           round(summary["fid"], 2), round(summary["mean_confidence"], 3),
           f"{FASHION_MNIST_CLASSES[top]} ({share:.0%})"]  # fmt: skip
    return figures, row


def run_section(out_dir: str | Path, budget: str = "quick", fresh: bool = False) -> list[Section]:
    """Train and measure the three GANs into `out_dir`; return the report section.

    `budget` is "tiny" (a smoke run), "quick" (the demo's default) or "full".
    """
    plan, out_dir = budget_for(budget).gan, Path(out_dir) / budget
    images, _ = load_gan_images(split="train")
    real, _ = load_gan_images(split="test")
    real = real[: plan.test_images]
    cnn = load_fmnist_cnn()
    figures, rows = [], []
    for model, loss in tqdm(RUNS, desc="GAN demo", unit="model"):
        folder = out_dir / f"{model}-{loss}"
        summary = _train_one(model, loss, plan, images, folder, fresh)
        # FID measured with other CNN weights is not comparable: measure again.
        if summary.get("cnn_weights") != weights_fingerprint(cnn):
            summary = _measure(summary, folder, real, cnn, plan)
        run_figures, row = _run_section(model, loss, folder, summary)
        figures += run_figures
        rows.append(row)
    real_grid = show_images(real[:64].view(64, 784) * 2 - 1, out_dir / "real_test_images.png")
    figures.append(Figure(real_grid, "For comparison: 64 real Fashion-MNIST test images."))
    held_out = images[NUM_TRAIN:][: plan.fid_samples]  # training images no GAN trained on
    floor = measure_quality(held_out, real, cnn)
    table = Table(
        f"{FID_LABEL}, lower is better (not Inception FID); {plan.fid_samples:,} samples each "
        f"against {len(real):,} test images. {len(held_out):,} real held-out training images "
        f"score {floor.fid:.2f}: the floor at this sample size.",
        ["model + loss", "epochs", "iterations", "train seconds", "FID", "classifier confidence",
         "most frequent class"],
        rows,
    )  # fmt: skip
    intro = (
        "Three GANs from the course, trained on Fashion-MNIST (the course used MNIST): the "
        "fully connected GAN with the vanilla (BCE) and least-squares losses, and the DCGAN "
        "with the vanilla loss. FID is measured in the feature space of the project's "
        "Fashion-MNIST CNN."
    )
    return [
        Section(
            "GANs",
            intro,
            figures=figures,
            tables=[table],
            notes=[f"This run used the {plan.note}."],
        )
    ]
