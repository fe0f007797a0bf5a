"""GAN training speed: vislab's step against the same step in plain torch, and epoch overhead.

Same process, float32, 2 threads, batch 128. The baseline builds the same networks from
torch.nn directly, uses F.binary_cross_entropy_with_logits and torch.optim.Adam, and takes
the same D step (detached fakes) and G step (fresh noise); the two are timed interleaved
and compared by their medians. Then `train_gan` runs one shortened epoch (checkpoint, loss
curve and history included) and its time is compared with steps x the median step time.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_gan.py [--steps 30] [--epoch-steps 40]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F
from torch import nn

from results import report
from vislab.gan import (
    GanConfig,
    build_models,
    discriminator_loss,
    gan_step,
    generator_loss,
    get_optimizer,
    preprocess_img,
    train_gan,
)

BATCH, NOISE = 128, 96


def plain_models(model: str) -> tuple[nn.Module, nn.Module]:
    """The course's networks written straight in torch.nn (weights copied in by the caller)."""
    if model == "fc":
        D = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256),
            nn.LeakyReLU(0.01),
            nn.Linear(256, 256),
            nn.LeakyReLU(0.01),
            nn.Linear(256, 1),
        )
        G = nn.Sequential(
            nn.Linear(NOISE, 1024),
            nn.ReLU(),
            nn.Linear(1024, 1024),
            nn.ReLU(),
            nn.Linear(1024, 784),
            nn.Tanh(),
        )
        return D, G
    D = nn.Sequential(
        nn.Identity(),
        nn.Conv2d(1, 32, 5),
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, 5),
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(1024, 1024),
        nn.LeakyReLU(0.01),
        nn.Linear(1024, 1),
    )
    G = nn.Sequential(
        nn.Linear(NOISE, 1024),
        nn.ReLU(),
        nn.BatchNorm1d(1024),
        nn.Linear(1024, 6272),
        nn.ReLU(),
        nn.BatchNorm1d(6272),
        nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1),
        nn.ReLU(),
        nn.BatchNorm2d(64),
        nn.ConvTranspose2d(64, 1, 4, 2, 1),
        nn.Tanh(),
        nn.Flatten(),
    )
    return D, G  # fmt: skip


def copy_weights(source: nn.Module, target: nn.Module) -> None:
    values = list(source.state_dict().values())
    target.load_state_dict(dict(zip(target.state_dict().keys(), values, strict=True)))


def plain_step(D, G, D_opt, G_opt, real, d_noise, g_noise):
    D_opt.zero_grad()
    logits_real = D(real)
    fake = G(d_noise).detach().view(-1, 1, 28, 28)
    logits_fake = D(fake)
    d_loss = F.binary_cross_entropy_with_logits(
        logits_real, torch.ones_like(logits_real)
    ) + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
    d_loss.backward()
    D_opt.step()
    G_opt.zero_grad()
    logits = D(G(g_noise).view(-1, 1, 28, 28))
    g_loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    g_loss.backward()
    G_opt.step()


def time_steps(model: str, steps: int, real: torch.Tensor) -> tuple[list[float], list[float]]:
    """Seconds per step of vislab's gan_step and of the plain step, interleaved."""
    D, G = build_models(model, NOISE, seed=0)
    pD, pG = plain_models(model)
    copy_weights(D, pD)
    copy_weights(G, pG)
    opts = get_optimizer(D), get_optimizer(G)
    popts = (torch.optim.Adam(pD.parameters(), lr=1e-3, betas=(0.5, 0.999)),
             torch.optim.Adam(pG.parameters(), lr=1e-3, betas=(0.5, 0.999)))  # fmt: skip
    ours, plain = [], []
    for i in range(steps + 3):
        d_noise, g_noise = torch.rand(BATCH, NOISE) * 2 - 1, torch.rand(BATCH, NOISE) * 2 - 1
        start = time.perf_counter()
        gan_step(D, G, *opts, discriminator_loss, generator_loss, real, d_noise, g_noise)
        middle = time.perf_counter()
        plain_step(pD, pG, *popts, real, d_noise, g_noise)
        end = time.perf_counter()
        if i >= 3:  # warm-up
            ours.append(middle - start)
            plain.append(end - middle)
    return ours, plain


def time_epoch(model: str, steps: int, images: torch.Tensor) -> float:
    config = GanConfig(model=model, epochs=1, num_train=steps * BATCH, show_every=10**6)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        train_gan(images, config, folder)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps per model")
    parser.add_argument("--epoch-steps", type=int, default=40, help="steps in the timed epoch")
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    images = torch.rand(args.epoch_steps * BATCH, 1, 28, 28)
    real = preprocess_img(images[:BATCH])
    header = (
        "| model | vislab step (ms) | plain torch step (ms) | ratio (medians) | ratio (minima) "
        "| epoch / (steps x step) |"
    )
    lines = [header, "| --- | --- | --- | --- | --- | --- |"]
    for model in ("fc", "dc"):
        ours_all, plain_all = time_steps(model, args.steps, real)
        ours, plain = statistics.median(ours_all), statistics.median(plain_all)
        fastest = min(ours_all) / min(plain_all)
        epoch_steps = args.epoch_steps if model == "fc" else max(args.epoch_steps // 4, 5)
        epoch = time_epoch(model, epoch_steps, images)
        epoch_ratio = epoch / (epoch_steps * ours)
        lines.append(
            f"| {model} | {ours * 1e3:.1f} | {plain * 1e3:.1f} | {ours / plain:.3f} | "
            f"{fastest:.3f} | "
            f"{epoch_ratio:.3f} ({epoch_steps} steps, {epoch:.1f} s) |"
        )
    body = "\n".join(lines) + (
        f"\n\nbatch {BATCH}, float32, {torch.get_num_threads()} threads; medians (and minima, "
        f"steadier on a shared machine) of {args.steps} interleaved steps after 3 warm-ups. "
        "The epoch is `train_gan` over a shortened epoch "
        "(in-memory tensor, shuffled, checkpoint + history + loss curve written at its end). "
        "Targets: step ratio <= 1.1, epoch ratio <= 1.15."
    )
    report("GAN training step: vislab vs plain torch", body)


if __name__ == "__main__":
    main()
