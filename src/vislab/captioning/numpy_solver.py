"""CaptioningSolver: the course's minibatch training loop for the numpy CaptioningRNN, plus
per-epoch validation loss, best parameters, atomic checkpoints and exact resume.

A checkpoint (vislab.checkpoints, format "vislab-captioner-numpy") holds the model name,
config, vocabulary, parameters, optimiser state, the position (epoch and step within it),
histories and the random state, so a run resumed from any checkpoint, also one written
mid-epoch, repeats the uninterrupted run bit for bit. The loop stops on a non-finite loss
(vislab.run_guard) and, on SIGTERM/SIGINT, writes last.pt and raises RunInterrupted.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from vislab.captioning.caption_runs import CaptionHistory
from vislab.checkpoints import checkpoint_errors, load_checkpoint, save_checkpoint, to_numpy
from vislab.datasets.coco import sample_coco_minibatch
from vislab.errors import CorruptFileError
from vislab.numpy_nn import optim
from vislab.run_guard import DEFAULT_CHECKPOINT_EVERY, RunGuard
from vislab.runs import RunFolder, is_improvement, restore_rng_state, rng_state

logger = logging.getLogger(__name__)
UPDATE_RULES = ("sgd", "sgd_momentum", "rmsprop", "adam")
FORMAT = "vislab-captioner-numpy"
REQUIRED = {
    "model": str, "config": dict, "word_to_idx": dict, "params": dict, "best_params": dict,
    "optimizer": dict, "epoch": int, "step": int, "history": dict, "best_val_loss": float,
    "rng": dict,
}  # fmt: skip


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Load a checkpoint written by `CaptioningSolver.save_checkpoint`, as numpy values."""
    return to_numpy(
        load_checkpoint(
            path,
            FORMAT,
            REQUIRED,
            missing_hint="train one with `vislab caption train --out DIR` (it writes DIR/best.pt)",
        )
    )


def fitted_params(model, saved: dict) -> dict[str, np.ndarray]:
    """Saved parameters with exactly `model`'s names and shapes, in its dtype (else
    ValueError/KeyError, which `checkpoint_errors` reports as a damaged file)."""
    params = {}
    for name, value in model.params.items():
        array = np.asarray(saved[name], dtype=model.dtype)
        if array.shape != value.shape:
            raise ValueError(f"{name} has shape {array.shape}, the model {value.shape}")
        params[name] = array
    return params


class CaptioningSolver(CaptionHistory):
    """Train a CaptioningRNN on the dict from `load_coco_data`.

    The course's keywords: update_rule ("sgd", "sgd_momentum", "rmsprop", "adam"),
    optim_config (e.g. {"learning_rate": 5e-3}), lr_decay (per epoch), batch_size, num_epochs,
    print_every, verbose (log the loss every `print_every` iterations). Beyond the course:
    seed (minibatch sampling; None draws one from numpy's global generator), checkpoint_dir
    (writes last.pt every epoch and every `checkpoint_every`, and best.pt at the best
    validation loss), checkpoint_every ("5min", "200it", ...), max_val_captions (validation
    subset size), progress (a tqdm bar). Unknown keywords raise ValueError.
    """

    def __init__(self, model, data: dict, **kwargs):
        self.model = model
        self.data = data
        self.update_rule_name = kwargs.pop("update_rule", "sgd")
        self.optim_config = dict(kwargs.pop("optim_config", {}))
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.print_every = kwargs.pop("print_every", 10)
        self.verbose = kwargs.pop("verbose", True)
        seed = kwargs.pop("seed", None)
        checkpoint_dir = kwargs.pop("checkpoint_dir", None)
        self.checkpoint_every = kwargs.pop("checkpoint_every", DEFAULT_CHECKPOINT_EVERY)
        self.max_val_captions = kwargs.pop("max_val_captions", 1000)
        self.progress = kwargs.pop("progress", False)
        if kwargs:
            raise ValueError(f"Unrecognized arguments {', '.join(sorted(kwargs))}")
        if self.update_rule_name not in UPDATE_RULES:
            raise ValueError(f"Invalid update_rule {self.update_rule_name!r}; use {UPDATE_RULES}")
        self.update_rule = getattr(optim, self.update_rule_name)
        if seed is None:
            seed = int(np.random.randint(2**31))  # noqa: NPY002 (the course seeds the global one)
        self.rng = np.random.default_rng(seed)
        self.folder = None if checkpoint_dir is None else RunFolder(Path(checkpoint_dir))
        self._reset()

    def _reset(self) -> None:
        self._reset_history()
        self.best_params = {name: value.copy() for name, value in self.model.params.items()}
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}

    @property
    def iterations_per_epoch(self) -> int:
        return max(self.data["train_captions"].shape[0] // self.batch_size, 1)

    def _step(self, guard: RunGuard) -> float:
        captions, features, _ = sample_coco_minibatch(
            self.data, batch_size=self.batch_size, split="train", rng=self.rng
        )
        loss, grads = self.model.loss(features, captions)
        guard.check_finite({"loss": loss}, len(self.loss_history), self.epoch + 1)
        self.loss_history.append(loss)
        for name, value in self.model.params.items():
            next_value, config = self.update_rule(value, grads[name], self.optim_configs[name])
            self.model.params[name] = next_value
            self.optim_configs[name] = config
        return loss

    def validation_loss(self) -> float:
        """Mean per-caption loss on a fixed, evenly spaced subset of the val captions."""
        captions = self.data["val_captions"]
        count = min(len(captions), self.max_val_captions)
        if count == 0:
            return float("nan")
        rows = np.linspace(0, len(captions) - 1, num=count).astype(np.int64)
        total = 0.0
        for start in range(0, count, self.batch_size):
            batch = rows[start : start + self.batch_size]
            features = self.data["val_features"][self.data["val_image_idxs"][batch]]
            loss, _ = self.model.loss(features, captions[batch], compute_grads=False)
            total += loss * len(batch)
        return total / count

    def train(self) -> None:
        """Train from the current position up to `num_epochs` (continues after `resume`)."""
        per_epoch = self.iterations_per_epoch
        total = self.num_epochs * per_epoch
        bar = tqdm(
            total=total, initial=len(self.loss_history), disable=not self.progress, unit="it"
        )
        guard = RunGuard(
            self.folder, self.checkpoint_every, self.save_checkpoint,
            parameters=lambda: self.model.params.values(),
        )  # fmt: skip
        with bar, guard:
            while self.epoch < self.num_epochs:
                while self.step < per_epoch:
                    loss = self._step(guard)
                    self.step += 1
                    t = len(self.loss_history)
                    if self.verbose and (t - 1) % self.print_every == 0:
                        logger.info("(Iteration %d / %d) loss: %f", t, total, loss)
                    bar.set_postfix(loss=f"{loss:.3f}", epoch=self.epoch + 1)
                    bar.update()
                    guard.after_step(t)
                self._end_epoch(float(np.mean(self.loss_history[-per_epoch:])), guard)

    def _end_epoch(self, mean_loss: float, guard: RunGuard) -> None:
        self.epoch, self.step = self.epoch + 1, 0
        for config in self.optim_configs.values():
            config["learning_rate"] = config.get("learning_rate", 1e-2) * self.lr_decay
        self.epoch_loss_history.append(mean_loss)
        val_loss = self.validation_loss()
        self.val_loss_history.append(val_loss)
        has_val = len(self.data["val_captions"]) > 0 and self.max_val_captions > 0
        score = val_loss if has_val else mean_loss
        guard.check_finite({"validation loss": score}, len(self.loss_history), self.epoch)
        improved = is_improvement(score, self.best_val_loss)
        if improved:
            self.best_val_loss = score
            self.best_params = {name: value.copy() for name, value in self.model.params.items()}
        logger.info("epoch %d: train %.4f, val %.4f", self.epoch, mean_loss, val_loss)
        if self.folder is not None and improved:  # best.pt first: last.pt says it is written
            self.save_checkpoint(self.folder.best, params=self.best_params)
        guard.write()

    def state_dict(self, params: dict | None = None) -> dict:
        """Everything needed to sample from the model or resume training, as numpy values."""
        return {
            "model": self.model.cell_type,
            "config": self.model.config,
            "word_to_idx": dict(self.model.word_to_idx),
            "params": dict(self.model.params if params is None else params),
            "best_params": self.best_params,
            "optimizer": {"update_rule": self.update_rule_name, "configs": self.optim_configs},
            "solver": {"batch_size": self.batch_size, "lr_decay": self.lr_decay},
            **self._history_state(),
            "rng": rng_state(self.rng),
        }

    def save_checkpoint(self, path: str | os.PathLike, params: dict | None = None) -> Path:
        """Write the state (with `params` in place of the current ones if given) atomically."""
        return save_checkpoint(path, FORMAT, self.state_dict(params))

    def load_state_dict(self, state: dict) -> None:
        if state["model"] != self.model.cell_type or state["config"] != self.model.config:
            raise CorruptFileError(
                f"checkpoint holds a {state['model']} {state['config']}, not this "
                f"{self.model.cell_type} {self.model.config}"
            )
        self.model.params = fitted_params(self.model, state["params"])
        self.best_params = fitted_params(self.model, state["best_params"])
        self.optim_configs = {name: dict(state["optimizer"]["configs"][name])
                              for name in self.model.params}  # fmt: skip
        self._load_history(state)
        restore_rng_state(state["rng"], self.rng)

    def resume(self, path: str | os.PathLike) -> None:
        """Continue from a `last.pt` written by a solver with the same model and settings."""
        state = read_checkpoint(path)
        with checkpoint_errors(path):
            self.load_state_dict(state)
