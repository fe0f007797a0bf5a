"""A checkpointed GAN training run for the CLI and the demo: `train_gan`.

Same step as the course loop (`gan_step`), plus what a real run needs: the data set as one
in-memory tensor shuffled per epoch, fixed-noise sample grids every `show_every` iterations
(comparable frames), a loss curve, an atomic checkpoint after every epoch, exact `resume`
(models, optimisers, RNG states and history are saved at epoch boundaries and each epoch's
order is a function of (seed, epoch)), and a clear stop when a loss turns NaN or infinite.

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

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from vislab.atomic_files import atomic_write_text
from vislab.errors import InvalidInputError, VislabError
from vislab.gan.checkpoints import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from vislab.gan.images import preprocess_img, save_loss_curve, show_images
from vislab.gan.models import sample_noise
from vislab.gan.registry import GanConfig, build_models, loss_pair
from vislab.gan.training import gan_step, get_optimizer
from vislab.torch_nn.distributed import DistributedContext, sync_batchnorm, unwrap

logger = logging.getLogger(__name__)

NUM_FIXED_NOISE = 64
# Settings that must match for --resume to continue the same run (epochs may grow).
RESUME_KEYS = ("model", "loss", "batch_size", "noise_dim", "learning_rate", "num_train", "seed")


class TrainingDivergedError(VislabError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


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
    D, G = build_models(config.model, config.noise_dim, seed=config.seed)
    D, G = D.to(device), G.to(device)
    fixed = sample_noise(
        NUM_FIXED_NOISE, config.noise_dim, generator=torch.Generator().manual_seed(config.seed + 2)
    )
    return {
        "D": D, "G": G,
        "D_solver": get_optimizer(D, config.learning_rate),
        "G_solver": get_optimizer(G, config.learning_rate),
        "noise_rng": torch.Generator().manual_seed(config.seed + 1),
        "fixed_noise": fixed, "epoch": 0, "iteration": 0,
        "history": {"iteration": [], "d_loss": [], "g_loss": []},
    }  # fmt: skip


def _restore(state: dict, saved: dict, config: GanConfig, path: Path) -> None:
    """Load a checkpoint's tensors into a fresh state, checking it belongs to this run."""
    old = GanConfig.from_dict(saved["config"])
    changed = [k for k in RESUME_KEYS if getattr(old, k) != getattr(config, k)]
    if changed:
        details = ", ".join(f"{k}: {getattr(old, k)} -> {getattr(config, k)}" for k in changed)
        raise InvalidInputError(f"cannot resume {path}: the run's settings differ ({details})")
    state["D"].load_state_dict(saved["discriminator"])
    state["G"].load_state_dict(saved["generator"])
    state["D_solver"].load_state_dict(saved["d_optimizer"])
    state["G_solver"].load_state_dict(saved["g_optimizer"])
    state["noise_rng"].set_state(saved["noise_rng"].cpu())
    torch.set_rng_state(saved["torch_rng"].cpu())
    state["fixed_noise"] = saved["fixed_noise"].cpu()
    state["epoch"], state["iteration"] = int(saved["epoch"]), int(saved["iteration"])
    state["history"] = {k: list(v) for k, v in saved["history"].items()}


def _checkpoint_state(state: dict, config: GanConfig) -> dict:
    return {
        "config": config.to_dict(),
        "epoch": state["epoch"],
        "iteration": state["iteration"],
        "discriminator": unwrap(state["D"]).state_dict(),
        "generator": unwrap(state["G"]).state_dict(),
        "d_optimizer": state["D_solver"].state_dict(),
        "g_optimizer": state["G_solver"].state_dict(),
        "noise_rng": state["noise_rng"].get_state(),
        "torch_rng": torch.get_rng_state(),
        "fixed_noise": state["fixed_noise"],
        "history": state["history"],
    }


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


def _run_epoch(state, config, train, context, out_dir, losses, bar) -> list[Path]:
    """One pass over this rank's shard; returns the grids written (rank 0)."""
    batch, local_batch = config.batch_size, context.local_batch_size(config.batch_size)
    order = context.shard(len(train), epoch_seed=config.seed * 1_000_003 + state["epoch"])
    rows = slice(context.rank, None, context.world_size)  # this rank's rows of the global noise
    grids = []
    for step in range(len(train) // batch):
        index = order[step * local_batch : (step + 1) * local_batch].to(train.device)
        d_noise = sample_noise(batch, config.noise_dim, generator=state["noise_rng"])[rows]
        g_noise = sample_noise(batch, config.noise_dim, generator=state["noise_rng"])[rows]
        d_loss, g_loss, _ = gan_step(
            state["D"], state["G"], state["D_solver"], state["G_solver"], *losses,
            train[index], d_noise.to(train.device), g_noise.to(train.device),
            D_for_generator=unwrap(state["D"]),
        )  # fmt: skip
        d_value, g_value = context.all_reduce_mean(torch.stack([d_loss, g_loss])).tolist()
        if not (torch.isfinite(torch.tensor([d_value, g_value])).all()):
            raise TrainingDivergedError(
                f"the losses became non-finite (D {d_value}, G {g_value}) at iteration "
                f"{state['iteration']} of epoch {state['epoch'] + 1}; the last good checkpoint "
                f"{out_dir / CHECKPOINT_NAME} (epoch {state['epoch']}) is kept: try a lower "
                "learning rate or another --loss"
            )
        history = state["history"]
        history["iteration"].append(state["iteration"])
        history["d_loss"].append(d_value)
        history["g_loss"].append(g_value)
        if state["iteration"] % config.show_every == 0 and context.is_main:
            grids.append(
                write_grid(state["G"], state["fixed_noise"], grid_path(out_dir, state["iteration"]))
            )
        state["iteration"] += 1
        bar.update(1)
        bar.set_postfix(D=f"{d_value:.3f}", G=f"{g_value:.3f}", epoch=state["epoch"] + 1)
    return grids


def _save_epoch(state: dict, config: GanConfig, out_dir: Path) -> Path:
    """Checkpoint, history.json and the loss curve after an epoch (rank 0 only)."""
    save_checkpoint(out_dir / CHECKPOINT_NAME, _checkpoint_state(state, config))
    atomic_write_text(out_dir / "history.json", json.dumps(state["history"]))
    title = f"{config.model} + {config.loss}: losses per iteration"
    return save_loss_curve(state["history"], out_dir / "loss_curve.png", title)


def train_gan(
    images: torch.Tensor,
    config: GanConfig,
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    device: str | torch.device = "cpu",
    progress: bool = False,
    context: DistributedContext | None = None,
) -> GanRun:
    """Train (or continue) a GAN on `images` and write its outputs under `out_dir`.

    images: (N, 1, 28, 28) float pixels in [0, 1]; the first `config.num_train` are used.
    Writes `checkpoint.pt` and `history.json` and `loss_curve.png` after each epoch and
    `samples/iter_*.png` every `config.show_every` iterations (rank 0 only).
    """
    context = context or DistributedContext(device=torch.device(device))
    out_dir, device = Path(out_dir), context.device
    train = preprocess_img(images[: config.num_train].to(torch.float32)).to(device)
    if len(train) < config.batch_size:
        raise InvalidInputError(
            f"{len(train)} training images are fewer than one batch of {config.batch_size}"
        )
    state = _fresh_state(config, device)
    path = out_dir / CHECKPOINT_NAME
    if path.exists() and not resume:
        raise InvalidInputError(
            f"{path} exists: pass --resume to continue that run or choose another --out"
        )
    if resume and path.exists():
        _restore(state, load_checkpoint(path, device), config, path)
        logger.info("resuming %s after epoch %d", path, state["epoch"])
    _prepare_models(state, context)
    losses = loss_pair(config.loss)
    steps = (config.epochs - state["epoch"]) * (len(train) // config.batch_size)
    grids = []
    with tqdm(total=max(steps, 0), disable=not (progress and context.is_main), unit="it") as bar:
        while state["epoch"] < config.epochs:
            grids += _run_epoch(state, config, train, context, out_dir, losses, bar)
            state["epoch"] += 1
            if context.is_main:
                _save_epoch(state, config, out_dir)
            context.barrier()
    if context.is_main:
        grids.append(
            write_grid(state["G"], state["fixed_noise"], out_dir / "samples" / "final.png")
        )
    loss_curve = out_dir / "loss_curve.png"
    loss_curve = loss_curve if loss_curve.exists() else None
    return GanRun(
        out_dir, path, loss_curve, grids, state["history"], state["epoch"],
        discriminator=unwrap(state["D"]), generator=unwrap(state["G"]),
    )  # fmt: skip
