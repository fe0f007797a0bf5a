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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vislab.captioning.caption_runs import coco_fingerprint, write_caption_history
from vislab.captioning.transformer import FEEDFORWARD_DIM, CaptioningTransformer
from vislab.captioning.transformer_solver import FORMAT, CaptioningSolverTransformer
from vislab.checkpoints import checkpoint_errors, load_checkpoint
from vislab.datasets.coco import load_coco_data, require_training_data
from vislab.datasets.grid_data import require_grid_features, square_grid
from vislab.errors import InvalidInputError
from vislab.run_guard import DEFAULT_CHECKPOINT_EVERY, CheckpointEvery
from vislab.runs import check_device, open_run
from vislab.seeding import seed_everything
from vislab.torch_nn.distributed import init_from_env

logger = logging.getLogger(__name__)
REQUIRED = {
    "model": str, "config": dict, "word_to_idx": dict, "state_dict": dict, "optimizer": dict,
    "epoch": int, "step": int, "history": dict, "best_val_loss": float, "rng": dict,
}  # fmt: skip


@dataclass
class TrainedTransformer:
    """Where a training run left its files, its loss histories and the final model."""

    best_checkpoint: Path
    last_checkpoint: Path
    history: dict
    model: CaptioningTransformer


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
    checkpoint_every: str = DEFAULT_CHECKPOINT_EVERY,
    grid: bool = False,
    feedforward_dim: int = FEEDFORWARD_DIM,
) -> TrainedTransformer:
    """Train a CaptioningTransformer on a `coco_captioning` folder into the run folder
    `out_dir` (vislab.runs); with `resume`, continue its last.pt (same options and data).
    `grid`: cross-attention over the folder's grid cells (`{split}_grid_features`, a square
    grid) instead of the course's one feature vector."""
    every = CheckpointEvery.parse(checkpoint_every)
    options = {
        "epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
        "seed": seed, "device": device, "max_train": max_train,
        "max_val_captions": max_val_captions, "wordvec_dim": wordvec_dim,
        "num_heads": num_heads, "num_layers": num_layers, "max_length": max_length,
        "dropout": dropout, "checkpoint_every": checkpoint_every, "grid": grid,
    }  # fmt: skip
    if feedforward_dim != FEEDFORWARD_DIM:  # runs at the course's width keep their options
        options["feedforward_dim"] = feedforward_dim
    owns_group = not (torch.distributed.is_available() and torch.distributed.is_initialized())
    context = init_from_env(check_device(device))
    try:
        seed_everything(seed)
        data = load_coco_data(data_dir, max_train=max_train, rng=np.random.default_rng(seed))
        require_training_data(data, data_dir)
        if grid:  # the solver reads `*_features`: give it the grid
            require_grid_features(data, data_dir, "transformer-grid")
            data = {**data, "train_features": data["train_grid_features"]}
            data["val_features"] = data["val_grid_features"]
        folder = open_run(out_dir, options, coco_fingerprint(data_dir, data), resume=resume,
                          is_main=context.is_main)  # fmt: skip
        model = CaptioningTransformer(
            data["word_to_idx"],
            input_dim=data["train_features"].shape[-1],
            wordvec_dim=wordvec_dim,
            num_heads=num_heads,
            num_layers=num_layers,
            max_length=max_length,
            dropout=dropout,
            grid_shape=square_grid(data["train_features"].shape[1]) if grid else None,
            feedforward_dim=feedforward_dim,
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
            checkpoint_dir=folder.path,
            checkpoint_every=every,
            max_val_captions=max_val_captions,
            progress=progress,
        )
        if folder.resuming:
            state = read_transformer_checkpoint(folder.last, context.device)
            with checkpoint_errors(folder.last):
                solver.load_state_dict(state)
            logger.info("resuming from %s at epoch %d", folder.last, solver.epoch)
        solver.train()
        if context.is_main:
            write_caption_history(folder, solver.history, "transformer captioner", "loss per word")
        context.barrier()
    finally:
        if owns_group:
            context.shutdown()
    return TrainedTransformer(folder.best, folder.last, solver.history, model)


def read_transformer_checkpoint(path: str | os.PathLike, device="cpu") -> dict:
    """Load a Transformer checkpoint (vislab.checkpoints: weights only) onto `device`."""
    return load_checkpoint(
        path,
        FORMAT,
        REQUIRED,
        device=device,
        missing_hint="train one with `vislab caption train --model transformer`",
    )


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
        self.longest_caption = self.model.max_length  # its positional encodings end there

    @property
    def feature_layout(self) -> str:
        """ "grid" (features (N, L, D)) for a model built with grid_shape, else "vector"."""
        return "grid" if "grid_shape" in self.model.config else "vector"

    def sample(
        self, features: np.ndarray, max_length: int = 30, beam_size: int = 1, **decoding
    ) -> np.ndarray:
        """features: (N, D), or (N, L, D) over a grid -> word ids (N, max_length), `<NULL>`
        after `<END>`. decoding: length_penalty, block_trigrams (beam search)."""
        features = np.asarray(features)
        if self.feature_layout == "grid":
            cells, expected = (
                int(np.prod(self.model.config["grid_shape"])),
                self.model.config["input_dim"],
            )
            if features.shape[1:] != (cells, expected):
                raise InvalidInputError(
                    f"this captioner was trained on grid features (N, {cells}, {expected}), "
                    f"these are {features.shape}; use the data folder it was trained on"
                )
            return self.model.sample(features, max_length, beam_size, **decoding)
        expected = self.model.config["input_dim"]
        if features.ndim != 2 or features.shape[1] != expected:
            raise InvalidInputError(
                f"this captioner was trained on features (N, {expected}), these are "
                f"{features.shape}; use the data folder it was trained on"
            )
        return self.model.sample(features, max_length, beam_size, **decoding)


def load_transformer_captioner(path: str | os.PathLike, device="cpu") -> TransformerCaptioner:
    """Load `best.pt` / `last.pt` written by `train_transformer_captioner`."""
    device = check_device(device)
    state = read_transformer_checkpoint(path, device)
    with checkpoint_errors(path):
        return TransformerCaptioner(state, device)
