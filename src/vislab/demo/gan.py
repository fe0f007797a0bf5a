"""The GAN part of `vislab demo`: the course's three GANs and the strong recipe, measured.

Runs: fc + bce and fc + ls (the course's fully connected GAN), dc + bce (the course's
DCGAN, with an EMA of its generator kept beside it; training never reads the average, so
the raw weights are the course run's) and the strong recipe (DCGAN + spectral norm + hinge
+ EMA, the DCGAN's epochs). Each trains with `train_gan` into its own folder (resumable: an
interrupted demo goes on; a finished run is reused unless `fresh` or its settings changed),
then each generator (raw, and EMA where kept) is scored once with every metric of
`vislab.gan.evaluation` against the floor of held-out real images, with its memorisation
figures and a latent interpolation strip, and cached in evaluation_<weights>.json.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from vislab.atomic_files import atomic_write_bytes, atomic_write_text
from vislab.backbones import load_fmnist_cnn
from vislab.backbones.fmnist_cnn import weights_fingerprint
from vislab.demo.budgets import GanBudget, budget_for
from vislab.gan.checkpoint_evaluation import RealReference, generated_images, write_figures
from vislab.gan.checkpoints import load_generator
from vislab.gan.data import NUM_TRAIN, load_gan_images
from vislab.gan.evaluation import FEATURE_SPACE
from vislab.gan.images import show_images
from vislab.gan.registry import GanConfig, recipe_choices
from vislab.gan.resumable import train_gan
from vislab.gan.sampling import generate, interpolation_noise
from vislab.report import Figure, Section, Table

logger = logging.getLogger(__name__)

EMA_DECAY = 0.999
RUNS = {  # folder name -> (label, settings beyond the budget's)
    "fc-bce": ("fc + bce", {"model": "fc", "loss": "bce"}),
    "fc-ls": ("fc + ls", {"model": "fc", "loss": "ls"}),
    "dc-bce": ("dc + bce", {"model": "dc", "loss": "bce", "ema_decay": EMA_DECAY}),
    "strong": ("strong recipe", recipe_choices("strong")),
}
NUM_BOOTSTRAP = 50


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


def _config(settings: dict, budget: GanBudget) -> GanConfig:
    model = settings["model"]
    return GanConfig(**settings, epochs=budget.epochs[model], show_every=budget.show_every[model],
                     num_train=budget.num_train, batch_size=budget.batch_size)  # fmt: skip


def _train_one(config: GanConfig, images, folder: Path, fresh: bool) -> dict:
    """Train (or reuse) one run; return its summary. A run made with other settings is
    trained again; training seconds add up over interrupted and resumed calls (time.json)."""
    record = folder / "run.json"
    if record.exists() and json.loads(record.read_text())["options"] != config.to_dict():
        fresh = True
    if fresh and folder.exists():
        shutil.rmtree(folder)
    time_path = folder / "time.json"
    if (folder / "summary.json").exists():
        return json.loads((folder / "summary.json").read_text())
    start = time.perf_counter()
    run = train_gan(images, config, folder, resume=True, progress=True)
    seconds = time.perf_counter() - start
    if time_path.exists():
        seconds += json.loads(time_path.read_text())["train_seconds"]
    atomic_write_text(time_path, json.dumps({"train_seconds": seconds}))
    summary = {"checkpoint": str(run.checkpoint), "train_seconds": seconds,
               "iterations": len(run.history["d_loss"])}  # fmt: skip
    atomic_write_text(folder / "summary.json", json.dumps(summary))
    return summary


def _evaluate_one(folder: Path, weights: str, reference, budget: GanBudget, cnn_weights) -> dict:
    """Every metric of one generator, its figures and an interpolation strip, cached; scores
    made with other CNN weights are not comparable and are measured again."""
    cached = folder / f"evaluation_{weights}.json"
    if cached.exists() and json.loads(cached.read_text())["cnn_weights"] == cnn_weights:
        return json.loads(cached.read_text())
    checkpoint = folder / "last.pt"
    fake, _, _ = generated_images(checkpoint, budget.fid_samples, weights)
    evaluation = reference().evaluate(fake)
    write_figures(evaluation, fake, reference().train_images, folder / f"evaluation_{weights}")
    G, config = load_generator(checkpoint, weights=weights)
    strip = generate(G, interpolation_noise(config.noise_dim, rows=4, steps=10, seed=1))
    show_images(strip, folder / f"interpolation_{weights}.png", columns=10)
    result = {**evaluation.to_dict(), "cnn_weights": cnn_weights}
    atomic_write_text(cached, json.dumps(result))
    return result


def _interval(part: dict, scale: float = 1.0) -> str:
    return f"{scale * part['value']:.2f} [{scale * part['low']:.2f}, {scale * part['high']:.2f}]"


def _cells(scores: dict) -> list[str]:
    prdc = scores["prdc"]
    top = max(scores["class_histogram"], key=scores["class_histogram"].get)
    share = scores["class_histogram"][top] / max(scores["num_images"], 1)
    return [_interval(scores["fid"]), _interval(scores["kid"], 1000),
            *(f"{prdc[name]:.3f}" for name in ("precision", "recall", "density", "coverage")),
            f"{top} ({share:.0%})"]  # fmt: skip


def _run_figures(label: str, folder: Path, config: GanConfig) -> list[Figure]:
    grids = sorted((folder / "samples").glob("iter_*.png")) + [folder / "samples" / "final.png"]
    strip = _progress_strip(grids, folder / "progress.png")
    iterations = [int(p.stem.split("_")[1]) for p in grids[:-1]]
    return [
        Figure(strip, f"{label}: the same 16 noise vectors through training (raw generator; "
               f"snapshots among iterations {iterations[0]}..{iterations[-1]}, then the end)."),
        Figure(folder / "samples" / "final.png", f"{label}: 64 samples of the raw generator "
               f"from fixed noise after {config.epochs} epoch(s)."),
        Figure(folder / "loss_curve.png", f"{label}: discriminator and generator losses."),
    ]  # fmt: skip


def _best_figures(label: str, weights: str, folder: Path, closer: float) -> list[Figure]:
    where = folder / f"evaluation_{weights}"
    return [
        Figure(where / "memorisation.png", f"Memorisation check, {label} ({weights} weights): "
               "the 8 samples nearest to the training set in the CNN's feature space (left), a "
               "gap, then each one's 5 nearest training images, nearest first. "
               f"{closer:.1%} of samples lie nearer to a training image than 95% of real test "
               "images do (5% would be expected with no copying)."),
        Figure(where / "memorisation_distances.png", "Distances to the nearest training image: "
               "samples against real test images (which cannot be memorised)."),
        Figure(where / "class_balance.png", f"Class balance of the {label} samples as the "
               "Fashion-MNIST CNN classifies them; the data has 10% of each class."),
    ]  # fmt: skip


def run_section(out_dir: str | Path, budget: str = "quick", fresh: bool = False) -> list[Section]:
    """Train and measure the GANs into `out_dir`; return the report section.

    `budget` is "tiny" (a smoke run), "quick" (the demo's default) or "full".
    """
    plan, out_dir = budget_for(budget).gan, Path(out_dir) / budget
    images, _ = load_gan_images(split="train")
    test, _ = load_gan_images(split="test")
    test = test[: plan.test_images]
    held_out = images[NUM_TRAIN:][: plan.fid_samples]  # training images no GAN trained on
    cnn = load_fmnist_cnn()
    cnn_weights, built = weights_fingerprint(cnn), []

    def reference() -> RealReference:  # built on first use: cached scores need none
        if not built:
            built.append(RealReference.build(test, held_out, images[: plan.num_train], cnn,
                                             NUM_BOOTSTRAP))  # fmt: skip
        return built[0]

    figures, rows, scores = [], [], {}
    for name, (label, settings) in tqdm(RUNS.items(), desc="GAN demo", unit="run"):
        folder, config = out_dir / name, _config(settings, plan)
        summary = _train_one(config, images, folder, fresh)
        figures += _run_figures(label, folder, config)
        for weights in ("raw", "ema") if config.ema_decay else ("raw",):
            result = _evaluate_one(folder, weights, reference, plan, cnn_weights)
            scores[label, weights] = (folder, result)
            closer = result["memorisation"]["share_closer_than_5th_percentile_of_test"]
            rows.append([label, weights, config.epochs, summary["iterations"],
                         round(summary["train_seconds"], 1), *_cells(result["samples"]),
                         f"{closer:.1%}"])  # fmt: skip
    floor = next(iter(scores.values()))[1]["floor"]
    rows.append(["held-out real images (the floor)", "-", "-", "-", "-", *_cells(floor), "5.0%"])
    best = min(scores, key=lambda key: scores[key][1]["samples"]["fid"]["value"])
    best_folder, best_result = scores[best]
    closer = best_result["memorisation"]["share_closer_than_5th_percentile_of_test"]
    figures += _best_figures(*best, best_folder, closer)
    for (label, weights), (folder, _) in scores.items():
        if weights == "ema" or label == best[0]:
            figures.append(Figure(folder / f"interpolation_{weights}.png",
                                  f"{label} ({weights} weights): 4 straight lines in noise space, "
                                  "10 steps each; smooth changes of garment mean the generator "
                                  "maps nearby noise to nearby images."))  # fmt: skip
    real_grid = show_images(test[:64].view(64, 784) * 2 - 1, out_dir / "real_test_images.png")
    figures.append(Figure(real_grid, "For comparison: 64 real Fashion-MNIST test images."))
    table = Table(
        f"Sample quality on {FEATURE_SPACE} (not Inception; lower FID and KID are "
        f"better, precision/recall/density/coverage with k = 5, higher is better, density "
        f"about 1 for real data). {plan.fid_samples:,} samples per generator against "
        f"{len(test):,} test images; the last row is {len(held_out):,} held-out real training "
        "images against the same test images: what a perfect generator would score. Intervals: "
        "FID 95% bootstrap, KID mean +- 1.96 sd over subsets.",
        ["run", "weights", "epochs", "iterations", "train seconds", "FID", "KID x 1000",
         "precision", "recall", "density", "coverage", "most frequent class",
         "closer to train than 95% of test"],
        rows,
    )  # fmt: skip
    intro = (
        "Three GANs from the course, trained on Fashion-MNIST (the course used MNIST): the "
        "fully connected GAN with the vanilla (BCE) and least-squares losses and the DCGAN with "
        "the vanilla loss, whose generator also has an exponential moving average (EMA, 0.999) "
        "kept beside it; then the strong recipe: the DCGAN with spectral normalisation in the "
        "discriminator, the hinge loss and an EMA generator, for the same epochs. Every "
        "metric is measured in the feature space of the project's Fashion-MNIST CNN."
    )
    return [Section("GANs", intro, figures=figures, tables=[table],
                    notes=[f"This run used the {plan.note}."])]  # fmt: skip
