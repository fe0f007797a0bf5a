"""Train, save and load the Transformer captioner: what `vislab caption train/sample --model
transformer` call.

`train_transformer_captioner` runs in one process, or unchanged under `torchrun` (one
DistributedDataParallel replica per process; only rank 0 writes). Output folder:
`last.pt` (every epoch), `best.pt` (best validation loss), `history.json`, `loss_curve.png`.
A checkpoint written by K processes loads in one and the other way round: it holds the plain
model's state, never the DDP wrapper's.
"""

from __future__ import annotations

import logging
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vislab.captioning.training_history import write_history
from vislab.captioning.transformer import CaptioningTransformer
from vislab.captioning.transformer_solver import CaptioningSolverTransformer
from vislab.datasets.coco import load_coco_data
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError
from vislab.seeding import seed_everything
from vislab.torch_nn.distributed import init_from_env

logger = logging.getLogger(__name__)


@dataclass
class TrainedTransformer:
    """Where a training run left its files, its loss histories and the final model."""

    best_checkpoint: Path
    last_checkpoint: Path
    history: dict
    model: CaptioningTransformer


def check_device(device: str | torch.device) -> torch.device:
    """A torch device that exists here; `cuda` without CUDA is a user error."""
    try:
        device = torch.device(device)
    except RuntimeError as error:
        raise InvalidInputError(f"unknown device {device!r}; use cpu or cuda") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError("--device cuda was asked for but CUDA is not available here")
    return device


def train_transformer_captioner(
    data_dir: str | os.PathLike | None,
    out_dir: str | os.PathLike,
    *,
    epochs: int = 10,
    batch_size: int = 100,
    learning_rate: float = 1e-3,
    seed: int = 0,
    device: str = "cpu",
    resume: bool = False,
    max_train: int | None = None,
    progress: bool = False,
    max_val_captions: int = 1000,
    wordvec_dim: int = 256,
    num_heads: int = 4,
    num_layers: int = 2,
    max_length: int = 50,
    dropout: float = 0.1,
) -> TrainedTransformer:
    """Train a CaptioningTransformer on a `coco_captioning` folder; resumable from last.pt."""
    out_dir = Path(out_dir)
    owns_group = not (torch.distributed.is_available() and torch.distributed.is_initialized())
    context = init_from_env(check_device(device))
    try:
        seed_everything(seed)
        data = load_coco_data(data_dir, max_train=max_train, rng=np.random.default_rng(seed))
        model = CaptioningTransformer(
            data["word_to_idx"],
            input_dim=data["train_features"].shape[1],
            wordvec_dim=wordvec_dim,
            num_heads=num_heads,
            num_layers=num_layers,
            max_length=max_length,
            dropout=dropout,
        )
        solver = CaptioningSolverTransformer(
            model,
            data,
            data["idx_to_word"],
            learning_rate=learning_rate,
            batch_size=batch_size,
            num_epochs=epochs,
            seed=seed,
            context=context,
            checkpoint_dir=out_dir,
            max_val_captions=max_val_captions,
            progress=progress,
        )
        last = out_dir / "last.pt"
        if resume and last.is_file():
            solver.load_state_dict(read_transformer_checkpoint(last, context.device))
            logger.info("resuming from %s at epoch %d", last, solver.epoch)
        elif resume:
            logger.info("no %s to resume from; starting afresh", last)
        solver.train()
        if context.is_main:
            write_history(out_dir, solver.history, "transformer captioner", "loss per word")
        context.barrier()
    finally:
        if owns_group:
            context.shutdown()
    return TrainedTransformer(out_dir / "best.pt", last, solver.history, model)


def read_transformer_checkpoint(path: str | os.PathLike, device="cpu") -> dict:
    """Load a Transformer checkpoint with `weights_only=True` onto `device`."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(
            f"checkpoint {path} does not exist; train one with "
            "`vislab caption train --model transformer`"
        )
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except (RuntimeError, EOFError, ValueError, OSError, pickle.UnpicklingError) as error:
        raise CorruptFileError(f"{path} is not a vislab captioning checkpoint: {error}") from error
    if not isinstance(state, dict) or state.get("model") != "transformer":
        raise CorruptFileError(f"{path} is not a Transformer captioning checkpoint")
    return state


class TransformerCaptioner:
    """A trained Transformer captioner loaded from a checkpoint, ready to sample."""

    model_name = "transformer"

    def __init__(self, state: dict, device="cpu"):
        self.word_to_idx = dict(state["word_to_idx"])
        self.idx_to_word = [None] * len(self.word_to_idx)
        for word, index in self.word_to_idx.items():
            self.idx_to_word[index] = word
        self.model = CaptioningTransformer(self.word_to_idx, **state["config"])
        self.model.load_state_dict(state["state_dict"])
        self.model.to(device).eval()
        self.epoch = int(state["epoch"])
        self.history = state["history"]

    def sample(self, features: np.ndarray, max_length: int = 30, beam_size: int = 1) -> np.ndarray:
        """features: (N, D) -> word ids (N, max_length), `<NULL>` after `<END>`."""
        features = np.asarray(features)
        expected = self.model.config["input_dim"]
        if features.ndim != 2 or features.shape[1] != expected:
            raise InvalidInputError(f"features must be (N, {expected}), got {features.shape}")
        return self.model.sample(features, max_length=max_length, beam_size=beam_size)


def load_transformer_captioner(path: str | os.PathLike, device="cpu") -> TransformerCaptioner:
    """Load `best.pt` / `last.pt` written by `train_transformer_captioner`."""
    device = check_device(device)
    return TransformerCaptioner(read_transformer_checkpoint(path, device), device)
