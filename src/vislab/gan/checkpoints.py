"""GAN checkpoints: one dict of tensors and plain values, written atomically, loaded safely.

Layout: {"format": "vislab-gan/1", "config": GanConfig dict, "epoch": epochs completed,
"iteration": steps completed, "discriminator"/"generator": state dicts (never DDP-prefixed,
so DDP and single-process runs read each other's files), "d_optimizer"/"g_optimizer",
"noise_rng"/"torch_rng": generator states, "fixed_noise": (64, Z), "history": lists}.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from vislab.atomic_files import atomic_torch_save
from vislab.errors import CorruptFileError, DataNotFoundError
from vislab.gan.registry import GanConfig, build_models

FORMAT = "vislab-gan/1"
CHECKPOINT_NAME = "checkpoint.pt"
REQUIRED_KEYS = ("config", "epoch", "iteration", "discriminator", "generator")


def save_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """Write `state` (see the module docstring) to `path` atomically."""
    return atomic_torch_save({"format": FORMAT, **state}, path)


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict:
    """Read a GAN checkpoint (weights_only: no arbitrary unpickling) and check its layout."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(
            f"GAN checkpoint not found: {path}; `vislab gan train --out DIR` writes "
            f"DIR/{CHECKPOINT_NAME}"
        )
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:
        raise CorruptFileError(f"{path} is not a readable torch checkpoint: {error}") from error
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CorruptFileError(f"{path} is not a vislab GAN checkpoint (format {FORMAT})")
    missing = [key for key in REQUIRED_KEYS if key not in state]
    if missing:
        raise CorruptFileError(f"{path} lacks {', '.join(missing)}")
    return state


def load_generator(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[nn.Module, GanConfig]:
    """A checkpoint's generator in eval mode (BatchNorm on running statistics) and config."""
    state = load_checkpoint(path, device)
    config = GanConfig.from_dict(state["config"])
    _, G = build_models(config.model, config.noise_dim, seed=config.seed)
    try:
        G.load_state_dict(state["generator"])
    except RuntimeError as error:
        raise CorruptFileError(
            f"{path}: generator weights do not fit {config.model}: {error}"
        ) from error
    return G.to(device).eval(), config
