"""GAN sample quality at the course's schedules: fc+bce and fc+ls 10 epochs, dc+bce 5 epochs.

Trains on the first 50,000 Fashion-MNIST training images (batch 128, Adam 1e-3/0.5), then
measures FID (Fashion-MNIST CNN features; not Inception FID) of 10,000 samples against the
10,000 test images, the classifier's mean confidence and its most frequent class. The
held-out training images 50,000..59,999 give the floor. Final 8x8 sample grids are saved
beside this file as gan_quality_<run>.png.

Training goes round by round (round r: the DCGAN to epoch r, the fc runs to epoch 2r), so
a run stopped early leaves the three at the same fraction of their schedules; the runs
resume from --out, and --evaluate-only measures whatever epochs are done.

    PYTHONPATH=src .venv/bin/python benchmarks/gan_quality.py [--device cuda] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from results import report
from vislab.atomic_files import atomic_write_text
from vislab.backbones import load_fmnist_cnn
from vislab.datasets import FASHION_MNIST_CLASSES
from vislab.gan import (
    GanConfig,
    load_checkpoint,
    load_gan_images,
    load_generator,
    sample_noise,
    train_gan,
)
from vislab.gan.fid import FID_LABEL, measure_quality
from vislab.gan.images import deprocess_img, show_images
from vislab.gan.sampling import generate

RUNS = (("fc", "bce", 10), ("fc", "ls", 10), ("dc", "bce", 5))
HERE = Path(__file__).resolve().parent


def quality_row(name, folder, real, cnn, device, seconds):
    G, config = load_generator(folder / "checkpoint.pt", device)
    state = load_checkpoint(folder / "checkpoint.pt")
    noise = sample_noise(10000, config.noise_dim, generator=torch.Generator().manual_seed(0))
    fake = deprocess_img(generate(G, noise)).view(-1, 1, 28, 28).clamp(0, 1)
    quality = measure_quality(fake, real, cnn)
    show_images(generate(G, noise[:64]), HERE / f"gan_quality_{name}.png", scale=2)
    top = max(range(10), key=lambda c: quality.class_histogram[c])
    share = quality.class_histogram[top] / len(fake)
    return quality.fid, [
        name, state["epoch"], state["iteration"], seconds, f"{quality.fid:.2f}",
        f"{quality.mean_confidence:.3f}", f"{FASHION_MNIST_CLASSES[top]} ({share:.0%})",
    ]  # fmt: skip


def train_in_rounds(images, out, device, evaluate_only) -> dict[str, str]:
    """Train the runs round by round; return each run's training seconds over all calls.

    The seconds add up in <run>/train_seconds.json ("n/a" where no call recorded them).
    """
    rounds = 0 if evaluate_only else max(epochs for _, _, epochs in RUNS) // 2
    for round_number in range(1, rounds + 1):
        for model, loss, epochs in RUNS:
            config = GanConfig(model=model, loss=loss, epochs=epochs * round_number // rounds)
            folder = out / f"{model}-{loss}"
            start = time.perf_counter()
            train_gan(images, config, folder, resume=True, device=device, progress=True)
            record = folder / "train_seconds.json"
            total = json.loads(record.read_text()) if record.exists() else 0.0
            atomic_write_text(record, json.dumps(total + time.perf_counter() - start))
    seconds = {}
    for model, loss, _ in RUNS:
        record = out / f"{model}-{loss}" / "train_seconds.json"
        seconds[f"{model}-{loss}"] = (
            f"{json.loads(record.read_text()):.0f}" if record.exists() else "n/a"
        )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--out", default="runs/gan-quality", help="training folders (resumable)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--evaluate-only", action="store_true", help="measure, do not train")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    images, _ = load_gan_images(split="train")
    real, _ = load_gan_images(split="test")
    cnn = load_fmnist_cnn(device=device)
    seconds = train_in_rounds(images, Path(args.out), device, args.evaluate_only)
    rows, fids = [], {}
    for model, loss, _ in RUNS:
        name = f"{model}-{loss}"
        fids[name], row = quality_row(name, Path(args.out) / name, real, cnn, device, seconds[name])
        rows.append(row)
    floor = measure_quality(images[50000:60000], real, cnn)
    best = min(fids, key=fids.get)
    header = ["run", "epochs", "iterations", "train seconds", "FID", "CNN confidence", "top class"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    body = "\n".join(lines) + (
        f"\n\n{FID_LABEL}: 10,000 samples vs the 10,000 test images; lower is better. "
        f"Held-out real training images score {floor.fid:.2f} (the floor). Device {device}. "
        f"Lowest FID: {best} ({'as expected' if best == 'dc-bce' else 'NOT the DCGAN'}). "
        "Train seconds: all calls that recorded them. "
        "Final grids: benchmarks/gan_quality_<run>.png."
    )
    done = all(int(row[1]) == epochs for row, (_, _, epochs) in zip(rows, RUNS, strict=True))
    schedule = "the course's schedules" if done else "part of the course's schedules (see epochs)"
    report(f"GAN sample quality at {schedule} (Fashion-MNIST)", body)


if __name__ == "__main__":
    main()
