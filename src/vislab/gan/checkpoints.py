"""GAN checkpoints: one plain dict, written and read through vislab.checkpoints.

Layout: {"format": "vislab-gan", "format_version", "config": GanConfig dict, "epoch": epochs
completed, "step": steps completed in the current epoch, "iteration": steps completed in all,
"discriminator"/"generator": state dicts (never DDP-prefixed, so DDP and single-process runs
read each other's files), "d_optimizer"/"g_optimizer", "rng": `vislab.runs.rng_state` (torch's
generator and the noise stream), "fixed_noise": (64, Z), "history": lists}, and
"generator_ema" (the EMA generator) for runs with ema_decay > 0. Extra keys are
kept as they are: the payload is a plain dict.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from vislab import checkpoints
from vislab.checkpoints import checkpoint_errors
from vislab.errors import InvalidInputError
from vislab.gan.registry import GanConfig, build_models

FORMAT = "vislab-gan"
REQUIRED = {"config": dict, "epoch": int, "iteration": int, "discriminator": dict,
            "generator": dict}  # fmt: skip
MISSING_HINT = "`vislab gan train --out DIR` writes DIR/last.pt"


def save_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """Write `state` (see the module docstring) to `path` atomically."""
    return checkpoints.save_checkpoint(path, FORMAT, state)


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict:
    """Read a GAN checkpoint (weights_only: no arbitrary unpickling) and check its layout."""
    return checkpoints.load_checkpoint(
        path, FORMAT, REQUIRED, device=device, missing_hint=MISSING_HINT
    )


WEIGHTS = ("ema", "raw")  # the EMA generator (runs with ema_decay > 0) or the trained one


def default_weights(path: str | os.PathLike) -> str:
    """ "ema" when the checkpoint holds an EMA generator, else "raw"."""
    return "ema" if "generator_ema" in load_checkpoint(path) else "raw"


def load_generator(
    path: str | os.PathLike, device: str | torch.device = "cpu", weights: str = "raw"
) -> tuple[nn.Module, GanConfig]:
    """A checkpoint's generator in eval mode (BatchNorm on running statistics) and config.

    weights: "raw" (the trained generator) or "ema" (its moving average, when kept).
    """
    if weights not in WEIGHTS:
        raise InvalidInputError(f"unknown weights {weights!r}; choose ema or raw")
    state = load_checkpoint(path, device)
    key = "generator_ema" if weights == "ema" else "generator"
    if key not in state:
        raise InvalidInputError(
            f"{path} holds no EMA generator (trained without --ema-decay): use --weights raw"
        )
    with checkpoint_errors(path):
        config = GanConfig.from_dict(state["config"])
        _, G = build_models(config.model, config.noise_dim, seed=config.seed)
        G.load_state_dict(state[key])
    return G.to(device).eval(), config
