"""GAN checkpoints: one plain dict, written and read through vislab.checkpoints.

Layout: {"format": "vislab-gan", "format_version", "config": GanConfig dict, "epoch": epochs
completed, "step": steps completed in the current epoch, "iteration": steps completed in all,
"discriminator"/"generator": state dicts (never DDP-prefixed, so DDP and single-process runs
read each other's files), "d_optimizer"/"g_optimizer", "rng": `vislab.runs.rng_state` (torch's
generator and the noise stream), "fixed_noise": (64, Z), "history": lists}. Extra keys are
kept as they are: the payload is a plain dict.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from vislab import checkpoints
from vislab.checkpoints import checkpoint_errors
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


def load_generator(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[nn.Module, GanConfig]:
    """A checkpoint's generator in eval mode (BatchNorm on running statistics) and config."""
    state = load_checkpoint(path, device)
    with checkpoint_errors(path):
        config = GanConfig.from_dict(state["config"])
        _, G = build_models(config.model, config.noise_dim, seed=config.seed)
        G.load_state_dict(state["generator"])
    return G.to(device).eval(), config
