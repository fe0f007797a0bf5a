"""Which EMA horizon for the course DCGAN: many averages of one run, on held-out seeds.

Training never reads an average of the generator's weights, so one run can keep any number of
them side by side and score each against the raw generator of that very run. This benchmark
trains the course DCGAN (Fashion-MNIST, batch 128, Adam 1e-3 / 0.5, bce, 5 epochs of the first
--num-train images, each epoch shuffled) once per seed, one process and thread per seed;
keeps one average per setting below; and scores every average (standing BatchNorm
statistics, as `train_gan` saves them) and the raw generator with FID in the Fashion-MNIST
CNN's feature space: --num-samples samples against the 10,000 test images.

A setting is (cap, warm-up): beta_t = min(cap, (1 + t) / (warm_up + t)); warm-up 1 is a
constant decay. The seeds default to 10 and 11, apart from gan_quality.py's 0, 1 and 2, so
the setting chosen here is then measured on runs that did not choose it.

    PYTHONPATH=src:benchmarks nice -n 10 .venv/bin/python benchmarks/gan_ema_sweep.py \
        [--seeds 10 11] [--num-train 50000 --epochs 5 --num-samples 10000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import torch

from results import report
from vislab.backbones import load_fmnist_cnn
from vislab.gan import load_gan_images
from vislab.gan.data import NUM_TRAIN
from vislab.gan.ema import make_ema, standing_statistics, update_ema
from vislab.gan.evaluation import FEATURE_SPACE, extract_features, frechet_distance
from vislab.gan.images import deprocess_img, preprocess_img
from vislab.gan.models import NOISE_DIM, sample_noise
from vislab.gan.registry import build_models, loss_pair
from vislab.gan.sampling import generate
from vislab.gan.training import gan_step, get_optimizer

SETTINGS = [  # (cap, warm-up); (0.999, 3) is vislab's default
    (0.99, 1), (0.995, 1), (0.998, 1), (0.999, 10), (0.999, 5), (0.999, 3), (0.999, 2),
    (0.9999, 3), (0.9999, 2), (0.9999, 1.5),
]  # fmt: skip
BATCH = 128


def train_with_averages(images: torch.Tensor, seed: int, epochs: int) -> tuple:
    """The course DCGAN trained from `seed`; returns (raw G, {setting: its average})."""
    D, G = build_models("dc", NOISE_DIM, seed)
    D_solver, G_solver = get_optimizer(D), get_optimizer(G)
    averages = {setting: make_ema(G) for setting in SETTINGS}
    losses = loss_pair("bce")
    train = preprocess_img(images)
    rng = torch.Generator().manual_seed(seed)
    update = 0
    for epoch in range(epochs):
        order = torch.randperm(len(train), generator=rng)
        for step in range(len(train) // BATCH):
            real = train[order[step * BATCH : (step + 1) * BATCH]]
            d_noise = sample_noise(BATCH, NOISE_DIM, generator=rng)
            g_noise = sample_noise(BATCH, NOISE_DIM, generator=rng)
            gan_step(D, G, D_solver, G_solver, *losses, real, d_noise, g_noise)
            for (cap, warm_up), average in averages.items():
                update_ema(average, G, cap, update, warm_up)
            update += 1
        print(f"seed {seed}: epoch {epoch + 1}/{epochs} ({update} steps)", flush=True)
    for average in averages.values():
        standing_statistics(average, NOISE_DIM, seed=seed + 3)
    return G, averages


def fid_of(G, test_features, num_samples: int, cnn) -> float:
    noise = sample_noise(num_samples, NOISE_DIM, generator=torch.Generator().manual_seed(0))
    fake = deprocess_img(generate(G, noise)).view(-1, 1, 28, 28).clamp(0, 1)  # (N, 1, 28, 28)
    features = extract_features(fake, cnn).vectors
    return frechet_distance(test_features, features)


def sweep_seed(seed: int, args) -> tuple[float, dict]:
    """One seed's run on one thread: (raw FID, {setting: the average's FID})."""
    torch.set_num_threads(1)
    images, _ = load_gan_images(split="train")
    test, _ = load_gan_images(split="test")
    cnn = load_fmnist_cnn()
    test_features = extract_features(test, cnn).vectors
    G, averages = train_with_averages(images[: args.num_train].float(), seed, args.epochs)
    scored = {setting: fid_of(average, test_features, args.num_samples, cnn)
              for setting, average in averages.items()}  # fmt: skip
    return fid_of(G, test_features, args.num_samples, cnn), scored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[10, 11])
    parser.add_argument("--jobs", type=int, default=2, help="seeds trained at once (1 thread each)")
    parser.add_argument("--num-train", type=int, default=NUM_TRAIN)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--num-samples", type=int, default=10000)
    parser.add_argument("--note", default="", help="a sentence shown above the RESULTS.md table")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as each seed's process: the line RESULTS.md shows says so
    start = time.perf_counter()
    spawn = multiprocessing.get_context("spawn")  # no fork of an initialised OpenMP runtime
    with ProcessPoolExecutor(args.jobs, mp_context=spawn) as pool:
        runs = list(pool.map(sweep_seed, args.seeds, [args] * len(args.seeds)))
    raw_fids = [raw for raw, _ in runs]
    cuts = {setting: [1 - scored[setting] / raw for raw, scored in runs] for setting in SETTINGS}
    header = ["cap", "warm-up", *(f"seed {seed}" for seed in args.seeds), "mean"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for (cap, warm_up), values in cuts.items():
        cells = [f"{-cut:+.1%}" for cut in values] + [f"{-sum(values) / len(values):+.1%}"]
        lines.append(f"| {cap} | {warm_up} | " + " | ".join(cells) + " |")
    best = max(cuts, key=lambda setting: sum(cuts[setting]))
    raw_text = ", ".join(f"{value:.2f}" for value in raw_fids)
    body = "\n".join([
        f"The course DCGAN, {args.epochs} epochs of {args.num_train:,} images "
        f"({args.epochs * (args.num_train // BATCH):,} steps), batch {BATCH}; one run per seed "
        f"keeping every average below. Each cell: the average's FID change against the raw "
        f"generator of the same run (raw FID {raw_text}); {args.num_samples:,} samples against "
        f"the 10,000 test images, on {FEATURE_SPACE}.",
        "", *lines, "",
        f"Lowest mean FID: cap {best[0]}, warm-up {best[1]}. {time.perf_counter() - start:.0f} s "
        f"({args.jobs} seeds at once, one thread each).",
    ])  # fmt: skip
    seeds = ", ".join(map(str, args.seeds))
    report(f"GAN EMA horizon sweep (course DCGAN, seeds {seeds})", body,
           benchmark="gan_ema_sweep", noisy=False, note=args.note)  # fmt: skip


if __name__ == "__main__":
    main()
