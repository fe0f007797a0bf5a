"""The course's `CaptioningSolverTransformer`: Adam on the masked word cross-entropy, made to run
on a device and, unchanged, under DistributedDataParallel.

Batches: each epoch deals a seeded permutation of the training captions into
`num_train // batch_size` batches (the course drew batches with replacement; a permutation makes
every caption count once per epoch). Under DDP with K processes, rank r takes every K-th caption
of each global batch (`DistributedContext.shard`), so the union of the ranks' batches is the
single-process batch; with the course's loss normalisation and DDP's gradient averaging, K
processes follow the single-process run up to floating-point reduction order.

Checkpoints (vislab.checkpoints, format "vislab-captioner-transformer") hold the position
(epoch, step within it) as well as the model and optimiser; since the epoch's order and each
step's dropout seed are functions of (seed, epoch, step, rank), a run resumed from any
checkpoint, also a mid-epoch one, repeats the uninterrupted run exactly (on every rank).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from vislab.captioning.caption_runs import CaptionHistory
from vislab.checkpoints import load_optimizer_state, save_checkpoint
from vislab.errors import CorruptFileError, InvalidInputError
from vislab.run_guard import DEFAULT_CHECKPOINT_EVERY, RunGuard
from vislab.runs import RunFolder, is_improvement, restore_rng_state, rng_state
from vislab.torch_nn.distributed import DistributedContext

logger = logging.getLogger(__name__)
FORMAT = "vislab-captioner-transformer"

EXTRA_OPTIONS = {
    "device": "cpu",
    "seed": 0,
    "context": None,
    "checkpoint_dir": None,
    "checkpoint_every": DEFAULT_CHECKPOINT_EVERY,
    "max_val_captions": 1000,
    "progress": False,
}
COURSE_OPTIONS = {
    "learning_rate": 0.001,
    "batch_size": 100,
    "num_epochs": 10,
    "print_every": 10,
    "verbose": True,
}


def transformer_temporal_softmax_loss(x, y, mask) -> torch.Tensor:
    """Masked cross-entropy averaged over all N*T positions (the course's normalisation).

    x: (N, T, V) scores; y: (N, T) target ids; mask: (N, T), 1 where the target counts.
    """
    N, T, V = x.shape
    losses = F.cross_entropy(x.reshape(N * T, V), y.reshape(N * T), reduction="none")
    return (losses * mask.reshape(N * T)).mean()


class CaptioningSolverTransformer(CaptionHistory):
    """Trains a `CaptioningTransformer` on the course's data dict.

    Course keywords: learning_rate=0.001, batch_size=100, num_epochs=10, print_every=10,
    verbose=True (the loss is logged, not printed). Beyond the course: device="cpu", seed=0
    (epoch orders and per-epoch dropout seeds), context=None (a `DistributedContext`; None runs
    in one process), checkpoint_dir=None (writes last.pt every epoch and every
    `checkpoint_every`, "5min" or "200it", and best.pt at the best validation loss, on rank 0
    only), max_val_captions=1000 (validation subset), progress=False (a tqdm bar on rank 0).
    Unknown keywords raise ValueError.
    """

    def __init__(self, model, data: dict, idx_to_word, **kwargs):
        options = {**COURSE_OPTIONS, **EXTRA_OPTIONS}
        unknown = sorted(set(kwargs) - set(options))
        if unknown:
            raise ValueError("Unrecognized arguments " + ", ".join(f'"{k}"' for k in unknown))
        options.update(kwargs)
        self.learning_rate = options["learning_rate"]
        self.batch_size = options["batch_size"]
        self.num_epochs = options["num_epochs"]
        self.print_every = options["print_every"]
        self.verbose = options["verbose"]
        self.seed = options["seed"]
        self.max_val_captions = options["max_val_captions"]
        self.progress = options["progress"]
        checkpoint_dir = options["checkpoint_dir"]
        self.folder = None if checkpoint_dir is None else RunFolder(Path(checkpoint_dir))
        self.checkpoint_every = options["checkpoint_every"]
        self.context = options["context"] or DistributedContext(
            device=torch.device(options["device"])
        )
        self.device = self.context.device
        self.model = model.to(self.device)
        self.data = data
        self.idx_to_word = idx_to_word
        self.local_batch_size = self.context.local_batch_size(self.batch_size)
        self._tensors = {
            key: torch.as_tensor(np.asarray(data[key])).to(self.device)
            for key in ("train_captions", "train_image_idxs", "train_features")
        }
        self._tensors["train_features"] = self._tensors["train_features"].float()
        self.training_model = self.context.wrap(self.model)
        self.optim = torch.optim.Adam(self.model.parameters(), self.learning_rate)
        self._reset_history()

    @property
    def iterations_per_epoch(self) -> int:
        num_train = self._tensors["train_captions"].shape[0]
        if num_train < self.batch_size:
            raise InvalidInputError(
                f"batch size {self.batch_size} is larger than the {num_train} training captions"
            )
        return num_train // self.batch_size

    def train(self) -> None:
        """Train from the current position up to `num_epochs` (continues after
        `load_state_dict`)."""
        per_epoch = self.iterations_per_epoch
        bar = tqdm(
            total=self.num_epochs * per_epoch,
            initial=len(self.loss_history),
            disable=not (self.progress and self.context.is_main),
            unit="it",
        )
        with bar, self._guard() as guard:
            while self.epoch < self.num_epochs:
                self._end_epoch(self.train_epoch(bar, guard), guard)

    def _guard(self, folder: RunFolder | None = None) -> RunGuard:
        return RunGuard(
            folder or self.folder, self.checkpoint_every, self.save_checkpoint, self.context,
            parameters=self.model.parameters,
        )  # fmt: skip

    def train_epoch(self, bar=None, guard: RunGuard | None = None) -> float:
        """The rest of one pass over the training captions (from `self.step`); returns the
        mean loss of the epoch's iterations."""
        guard = guard or self._guard()
        num_train = self._tensors["train_captions"].shape[0]
        order = self.context.shard(num_train, epoch_seed=self.seed * 100_003 + self.epoch)
        self.model.train()
        b, per_epoch = self.local_batch_size, self.iterations_per_epoch
        num_iterations = self.num_epochs * per_epoch
        while self.step < per_epoch:
            t = len(self.loss_history)
            # Dropout masks: a reproducible stream per step and rank (resumes exactly anywhere).
            torch.manual_seed(self.seed * 100_003 + t * 1_009 + self.context.rank)
            loss = self._step(order[self.step * b : (self.step + 1) * b], guard)
            self.step += 1
            if self.verbose and t % self.print_every == 0:
                logger.info("(Iteration %d / %d) loss: %f", t + 1, num_iterations, loss)
            if bar is not None:
                bar.set_postfix(loss=f"{loss:.3f}", epoch=self.epoch + 1)
                bar.update()
            guard.after_step(t + 1)
        self.epoch, self.step = self.epoch + 1, 0
        return float(np.mean(self.loss_history[-per_epoch:]))

    def _step(self, index: torch.Tensor, guard: RunGuard) -> float:
        captions, features = self._minibatch(index.to(self.device), "train")
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        mask = captions_out != self.model._null
        scores = self.training_model(features, captions_in)
        loss = transformer_temporal_softmax_loss(scores, captions_out, mask)
        value = float(self.context.all_reduce_mean(loss.detach()))
        guard.check_finite({"loss": value}, len(self.loss_history), self.epoch + 1)
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        self.optim.step()
        self.loss_history.append(value)
        return value

    def _minibatch(self, index: torch.Tensor, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        captions = self._tensors[f"{split}_captions"][index].long()  # (N, T+1)
        image_idxs = self._tensors[f"{split}_image_idxs"][index].long()
        return captions, self._tensors[f"{split}_features"][image_idxs]  # (N, D)

    def _end_epoch(self, mean_loss: float, guard: RunGuard) -> None:
        self.epoch_loss_history.append(mean_loss)
        val_loss = self.validation_loss()
        self.val_loss_history.append(val_loss)
        has_val = min(len(self.data["val_captions"]), self.max_val_captions) > 0
        score = val_loss if has_val else mean_loss
        guard.check_finite({"validation loss": score}, len(self.loss_history), self.epoch)
        improved = is_improvement(score, self.best_val_loss)
        if improved:
            self.best_val_loss = score
        logger.info("epoch %d: train %.4f, val %.4f", self.epoch, mean_loss, val_loss)
        if self.folder is not None and improved and self.context.is_main:
            self.save_checkpoint(self.folder.best)  # first: last.pt says best.pt is written
        guard.write()

    @torch.no_grad()
    def validation_loss(self, batch_size: int = 500) -> float:
        """The course's loss on a fixed, evenly spaced subset of `max_val_captions` validation
        captions, in eval mode; the ranks share the captions and the result is reduced."""
        if "val_captions" not in self._tensors:
            for key in ("val_captions", "val_image_idxs", "val_features"):
                self._tensors[key] = torch.as_tensor(np.asarray(self.data[key])).to(self.device)
            self._tensors["val_features"] = self._tensors["val_features"].float()
        total = self._tensors["val_captions"].shape[0]
        count = min(total, self.max_val_captions)
        rows = torch.linspace(0, max(total - 1, 0), steps=count).long().to(self.device)
        index = rows[self.context.rank :: self.context.world_size]
        was_training = self.model.training
        self.model.eval()
        sums = torch.zeros(2, dtype=torch.float64, device=self.device)  # loss sum, positions
        for start in range(0, len(index), batch_size):
            captions, features = self._minibatch(index[start : start + batch_size], "val")
            scores = self.model(features, captions[:, :-1])
            mask = captions[:, 1:] != self.model._null
            sums[0] += (
                transformer_temporal_softmax_loss(scores, captions[:, 1:], mask) * mask.numel()
            )
            sums[1] += mask.numel()
        self.model.train(was_training)
        sums = self.context.all_reduce_mean(sums)
        return float(sums[0] / sums[1]) if sums[1] > 0 else float("nan")

    def state_dict(self) -> dict:
        """Everything to sample or resume: plain values and tensors (`weights_only` loads it)."""
        return {
            "model": "transformer",
            "config": dict(self.model.config),
            "word_to_idx": dict(self.model.word_to_idx),
            "state_dict": self.model.state_dict(),
            "optimizer": self.optim.state_dict(),
            "solver": {"batch_size": self.batch_size, "learning_rate": self.learning_rate},
            "seed": self.seed,
            **self._history_state(),
            "rng": rng_state(),
        }

    def save_checkpoint(self, path: str | os.PathLike) -> Path:
        return save_checkpoint(path, FORMAT, self.state_dict())

    def load_state_dict(self, state: dict) -> None:
        """Continue from a checkpoint of the same model; the data order continues exactly."""
        if state.get("model") != "transformer" or state["config"] != self.model.config:
            raise CorruptFileError(
                f"checkpoint holds a {state.get('model')} {state.get('config')}, not this "
                f"transformer {self.model.config}"
            )
        self.model.load_state_dict(state["state_dict"])
        load_optimizer_state(self.optim, state["optimizer"])
        restore_rng_state(state["rng"])
        self._load_history(state)
