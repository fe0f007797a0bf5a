"""A checkpointed GAN training run for the CLI and the demo: `train_gan`.

Same step as the course loop (`gan_step`), plus what a real run needs: the data set as one
in-memory tensor shuffled per epoch, fixed-noise sample grids every `show_every` iterations
(comparable frames), a loss curve, the run folder of vislab.runs (last.pt after every epoch
and every `checkpoint_every`, run.json, the resume rule), exact `resume` (models, optimisers,
random state, history and the step within the epoch are saved; each epoch's order is a function
of (seed, epoch)), a checkpoint and RunInterrupted on SIGTERM/SIGINT, and a clear stop when a
loss turns NaN or infinite.

Under torchrun (see `vislab.torch_nn.distributed`) each rank takes its round-robin shard
and batch/K items per step; the noise for the whole global batch is drawn on every rank
and each rank keeps its rows, so K processes see exactly the single-process batches.
Only rank 0 writes. BatchNorm (the DC generator) is synchronised: its statistics are
those of the global batch (torch's SyncBatchNorm on CUDA, `GlobalBatchNorm` on CPU), so a
K-process DCGAN normalises exactly as the single-process one does; plain per-rank
BatchNorm would normalise over batch/K images and follow another learning curve. The
cost is one small all-reduce per BatchNorm layer per forward.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from vislab.checkpoints import checkpoint_errors, load_optimizer_state
from vislab.errors import InvalidInputError
from vislab.gan.checkpoints import load_checkpoint, save_checkpoint
from vislab.gan.ema import make_ema, standing_statistics, update_ema
from vislab.gan.images import preprocess_img, show_images
from vislab.gan.models import sample_noise
from vislab.gan.registry import GanConfig, build_models, loss_pair
from vislab.gan.training import gan_step, get_optimizer
from vislab.run_guard import DEFAULT_CHECKPOINT_EVERY, RunGuard, TrainingDivergedError
from vislab.runs import (
    RunFolder,
    check_device,
    data_fingerprint,
    open_run,
    restore_rng_state,
    rng_state,
    write_history,
)
from vislab.seeding import seed_everything
from vislab.torch_nn.distributed import DistributedContext, sync_batchnorm, unwrap

logger = logging.getLogger(__name__)

NUM_FIXED_NOISE = 64
__all__ = ["GanRun", "TrainingDivergedError", "train_gan"]


@dataclass
class GanRun:
    """What a training run leaves behind (paths are inside `out_dir`)."""

    out_dir: Path
    checkpoint: Path
    loss_curve: Path | None
    grids: list[Path] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)
    epochs_done: int = 0
    discriminator: nn.Module | None = None  # the trained modules (unwrapped from DDP)
    generator: nn.Module | None = None


def grid_path(out_dir: Path, iteration: int) -> Path:
    return out_dir / "samples" / f"iter_{iteration:06d}.png"


def _fresh_state(config: GanConfig, device: torch.device) -> dict:
    """Models, optimisers and RNGs of a new run (on every rank the same)."""
    D, G = build_models(config.model, config.noise_dim, config.seed, config.spectral_norm)
    D, G = D.to(device), G.to(device)
    fixed = sample_noise(
        NUM_FIXED_NOISE, config.noise_dim, generator=torch.Generator().manual_seed(config.seed + 2)
    )
    return {
        "D": D, "G": G, "G_ema": make_ema(G) if config.ema_decay else None,
        "D_solver": get_optimizer(D, config.learning_rate),
        "G_solver": get_optimizer(G, config.learning_rate),
        "noise_rng": torch.Generator().manual_seed(config.seed + 1),
        "fixed_noise": fixed, "epoch": 0, "step": 0, "iteration": 0,
        "history": {"iteration": [], "d_loss": [], "g_loss": []},
    }  # fmt: skip


def _restore(state: dict, path: Path, device: torch.device) -> None:
    """Load last.pt into a fresh state (open_run has checked that it belongs to this run)."""
    saved = load_checkpoint(path, device)
    with checkpoint_errors(path):
        state["D"].load_state_dict(saved["discriminator"])
        state["G"].load_state_dict(saved["generator"])
        if state["G_ema"] is not None:
            state["G_ema"].load_state_dict(saved["generator_ema"])
        load_optimizer_state(state["D_solver"], saved["d_optimizer"])
        load_optimizer_state(state["G_solver"], saved["g_optimizer"])
        restore_rng_state(saved["rng"], generators=[state["noise_rng"]])
        state["fixed_noise"] = saved["fixed_noise"].cpu()
        for key in ("epoch", "step", "iteration"):
            state[key] = int(saved[key])
        state["history"] = {k: list(v) for k, v in saved["history"].items()}


def _checkpoint_state(state: dict, config: GanConfig) -> dict:
    payload = {
        "config": config.to_dict(),
        "epoch": state["epoch"],
        "step": state["step"],
        "iteration": state["iteration"],
        "discriminator": unwrap(state["D"]).state_dict(),
        "generator": unwrap(state["G"]).state_dict(),
        "d_optimizer": state["D_solver"].state_dict(),
        "g_optimizer": state["G_solver"].state_dict(),
        "rng": rng_state(generators=[state["noise_rng"]]),
        "fixed_noise": state["fixed_noise"],
        "history": state["history"],
    }
    if state["G_ema"] is not None:  # the EMA generator beside the raw one, its own BN statistics
        standing_statistics(state["G_ema"], config.noise_dim, seed=config.seed + 3)
        payload["generator_ema"] = state["G_ema"].state_dict()
    return payload


def _parameters(state: dict) -> list[torch.Tensor]:
    return [*state["D"].parameters(), *state["G"].parameters()]


@torch.no_grad()
def write_grid(G: nn.Module, noise: torch.Tensor, path: Path) -> Path:
    """Generate from `noise` (M, Z) in eval mode (BatchNorm on running stats) and save a grid."""
    G = unwrap(G)
    was_training = G.training
    G.eval()
    try:
        images = G(noise.to(next(G.parameters()).device))
    finally:
        G.train(was_training)
    return show_images(images, path)


def _prepare_models(state: dict, context: DistributedContext) -> None:
    """When distributed: global-batch BatchNorm in G, then DDP around D and G."""
    if context.is_distributed:
        G = sync_batchnorm(state["G"], context)
        state["D"], state["G"] = context.wrap(state["D"]), context.wrap(G)


def _run_epoch(state, config, train, context, out_dir, losses, bar, guard) -> list[Path]:
    """The rest of one pass over this rank's shard (from `state["step"]`); returns the grids
    written (rank 0)."""
    batch, local_batch = config.batch_size, context.local_batch_size(config.batch_size)
    order = context.shard(len(train), epoch_seed=config.seed * 1_000_003 + state["epoch"])
    rows = slice(context.rank, None, context.world_size)  # this rank's rows of the global noise
    grids = []
    for step in range(state["step"], len(train) // batch):
        index = order[step * local_batch : (step + 1) * local_batch].to(train.device)
        d_noise = sample_noise(batch, config.noise_dim, generator=state["noise_rng"])[rows]
        g_noise = sample_noise(batch, config.noise_dim, generator=state["noise_rng"])[rows]
        d_loss, g_loss, _ = gan_step(
            state["D"], state["G"], state["D_solver"], state["G_solver"], *losses,
            train[index], d_noise.to(train.device), g_noise.to(train.device),
            D_for_generator=unwrap(state["D"]),
        )  # fmt: skip
        if state["G_ema"] is not None:
            update_ema(state["G_ema"], unwrap(state["G"]), config.ema_decay, state["iteration"])
        d_value, g_value = context.all_reduce_mean(torch.stack([d_loss, g_loss])).tolist()
        guard.check_finite({"D": d_value, "G": g_value}, state["iteration"], state["epoch"] + 1)
        history = state["history"]
        history["iteration"].append(state["iteration"])
        history["d_loss"].append(d_value)
        history["g_loss"].append(g_value)
        if state["iteration"] % config.show_every == 0 and context.is_main:
            grids.append(
                write_grid(state["G"], state["fixed_noise"], grid_path(out_dir, state["iteration"]))
            )
        state["iteration"] += 1
        state["step"] = step + 1
        bar.update(1)
        bar.set_postfix(D=f"{d_value:.3f}", G=f"{g_value:.3f}", epoch=state["epoch"] + 1)
        guard.after_step(state["iteration"])
    return grids


def _write_history(state: dict, config: GanConfig, folder: RunFolder) -> Path:
    """history.json and the loss curve (rank 0 only)."""
    history = state["history"]
    curves = {
        "discriminator": (history["iteration"], history["d_loss"]),
        "generator": (history["iteration"], history["g_loss"]),
    }
    title = f"{config.model} + {config.loss}: losses per iteration"
    return write_history(folder, history, curves, title, "loss")


def train_gan(
    images: torch.Tensor,
    config: GanConfig,
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    device: str | torch.device = "cpu",
    progress: bool = False,
    context: DistributedContext | None = None,
    checkpoint_every: str = DEFAULT_CHECKPOINT_EVERY,
) -> GanRun:
    """Train (or continue) a GAN on `images` and write its outputs under `out_dir`.

    images: (N, 1, 28, 28) float pixels in [0, 1]; the first `config.num_train` are used.
    Writes the run folder of vislab.runs (last.pt after each epoch and every
    `checkpoint_every`, e.g. "5min" or "200it"; history.json, loss_curve.png, run.json) and
    `samples/iter_*.png` every `config.show_every` iterations (rank 0 only). An existing run
    is continued only with `resume`, with the same settings and images.
    """
    context = context or DistributedContext(device=check_device(device))
    device = context.device
    seed_everything(config.seed)  # the models draw from their own generators; this is the rest
    used = images[: config.num_train].to(torch.float32)
    train = preprocess_img(used).to(device)
    if len(train) < config.batch_size:
        raise InvalidInputError(
            f"{len(train)} training images are fewer than one batch of {config.batch_size}"
        )
    fingerprint = data_fingerprint(config.data, arrays={"images": used})
    folder = open_run(out_dir, config.to_dict(), fingerprint, resume=resume,
                      is_main=context.is_main)  # fmt: skip
    out_dir = folder.path
    state = _fresh_state(config, device)
    if folder.resuming:
        _restore(state, folder.last, device)
        logger.info("resuming %s at epoch %d, step %d", folder.last, state["epoch"], state["step"])
    _prepare_models(state, context)
    losses = loss_pair(config.loss)
    per_epoch = len(train) // config.batch_size
    done = state["epoch"] * per_epoch + state["step"]
    grids = []
    guard = RunGuard(folder, checkpoint_every, lambda path: save_checkpoint(
        path, _checkpoint_state(state, config)), context, lambda: _parameters(state))  # fmt: skip
    bar = tqdm(total=max(config.epochs * per_epoch - done, 0), unit="it",
               disable=not (progress and context.is_main))  # fmt: skip
    with bar, guard:
        while state["epoch"] < config.epochs:
            grids += _run_epoch(state, config, train, context, out_dir, losses, bar, guard)
            state["epoch"], state["step"] = state["epoch"] + 1, 0
            guard.write()
            if context.is_main:
                _write_history(state, config, folder)
            context.barrier()
    if context.is_main:
        grids.append(
            write_grid(state["G"], state["fixed_noise"], out_dir / "samples" / "final.png")
        )
    curve = folder.curve if folder.curve.exists() else None
    return GanRun(
        out_dir, folder.last, curve, grids, state["history"], state["epoch"],
        discriminator=unwrap(state["D"]), generator=unwrap(state["G"]),
    )  # fmt: skip
