"""CaptioningSolver: the course's minibatch training loop for the numpy CaptioningRNN, plus
per-epoch validation loss, best parameters, atomic checkpoints and exact resume.

A checkpoint is a dict of plain values and torch tensors (`torch.load(weights_only=True)`):
model name, config, vocabulary, parameters, optimiser state, epoch, histories and the state of
the solver's random generator, so a resumed run repeats the uninterrupted one exactly.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from vislab.atomic_files import atomic_torch_save
from vislab.datasets.coco import sample_coco_minibatch
from vislab.errors import CorruptFileError
from vislab.numpy_nn import optim

logger = logging.getLogger(__name__)
UPDATE_RULES = ("sgd", "sgd_momentum", "rmsprop", "adam")


def to_checkpoint(value):
    """numpy arrays -> torch tensors, numpy scalars -> Python numbers, recursively."""
    import torch

    if isinstance(value, dict):
        return {key: to_checkpoint(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_checkpoint(item) for item in value]
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value).copy())
    if isinstance(value, np.generic):
        return value.item()
    return value


def from_checkpoint(value):
    """Inverse of `to_checkpoint`: torch tensors -> numpy arrays, recursively."""
    if isinstance(value, dict):
        return {key: from_checkpoint(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_checkpoint(item) for item in value]
    if hasattr(value, "numpy") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return value


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Load a checkpoint written by `CaptioningSolver.save_checkpoint` (no arbitrary unpickling)."""
    import torch

    try:
        state = torch.load(Path(path), map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as error:
        raise CorruptFileError(f"{path} is not a vislab captioning checkpoint: {error}") from error
    if not isinstance(state, dict) or "model" not in state:
        raise CorruptFileError(f"{path} is not a vislab captioning checkpoint")
    return from_checkpoint(state)


class CaptioningSolver:
    """Train a CaptioningRNN on the dict from `load_coco_data`.

    The course's keywords: update_rule ("sgd", "sgd_momentum", "rmsprop", "adam"),
    optim_config (e.g. {"learning_rate": 5e-3}), lr_decay (per epoch), batch_size, num_epochs,
    print_every, verbose (log the loss every `print_every` iterations). Beyond the course:
    seed (minibatch sampling; None draws one from numpy's global generator), checkpoint_dir
    (writes last.pt every epoch and best.pt at the best validation loss), max_val_captions
    (validation subset size), progress (a tqdm bar). Unknown keywords raise ValueError.
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
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self._reset()

    def _reset(self) -> None:
        self.epoch = 0
        self.loss_history: list[float] = []
        self.val_loss_history: list[float] = []
        self.epoch_loss_history: list[float] = []
        self.best_val_loss = float("inf")
        self.best_params = {name: value.copy() for name, value in self.model.params.items()}
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}

    @property
    def iterations_per_epoch(self) -> int:
        return max(self.data["train_captions"].shape[0] // self.batch_size, 1)

    def _step(self) -> float:
        captions, features, _ = sample_coco_minibatch(
            self.data, batch_size=self.batch_size, split="train", rng=self.rng
        )
        loss, grads = self.model.loss(features, captions)
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
        """Train from the current epoch up to `num_epochs` (continues after `resume`)."""
        per_epoch = self.iterations_per_epoch
        total = self.num_epochs * per_epoch
        bar = tqdm(
            total=total, initial=self.epoch * per_epoch, disable=not self.progress, unit="it"
        )
        with bar:
            while self.epoch < self.num_epochs:
                losses = []
                for _ in range(per_epoch):
                    losses.append(self._step())
                    t = len(self.loss_history)
                    if self.verbose and (t - 1) % self.print_every == 0:
                        logger.info("(Iteration %d / %d) loss: %f", t, total, losses[-1])
                    bar.set_postfix(loss=f"{losses[-1]:.3f}", epoch=self.epoch + 1)
                    bar.update()
                self._end_epoch(float(np.mean(losses)))

    def _end_epoch(self, mean_loss: float) -> None:
        self.epoch += 1
        for config in self.optim_configs.values():
            config["learning_rate"] = config.get("learning_rate", 1e-2) * self.lr_decay
        self.epoch_loss_history.append(mean_loss)
        val_loss = self.validation_loss()
        self.val_loss_history.append(val_loss)
        score = mean_loss if np.isnan(val_loss) else val_loss
        improved = score < self.best_val_loss
        if improved:
            self.best_val_loss = score
            self.best_params = {name: value.copy() for name, value in self.model.params.items()}
        logger.info("epoch %d: train %.4f, val %.4f", self.epoch, mean_loss, val_loss)
        if self.checkpoint_dir is not None:
            self.save_checkpoint(self.checkpoint_dir / "last.pt")
            if improved:
                self.save_checkpoint(self.checkpoint_dir / "best.pt", params=self.best_params)

    @property
    def history(self) -> dict[str, list[float]]:
        return {
            "train_loss": list(self.loss_history),
            "epoch_train_loss": list(self.epoch_loss_history),
            "val_loss": list(self.val_loss_history),
        }

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
            "epoch": self.epoch,
            "history": self.history,
            "best_val_loss": self.best_val_loss,
            "rng_state": json.dumps(self.rng.bit_generator.state),
        }

    def save_checkpoint(self, path: str | os.PathLike, params: dict | None = None) -> Path:
        """Write the state (with `params` in place of the current ones if given) atomically."""
        return atomic_torch_save(to_checkpoint(self.state_dict(params)), path)

    def load_state_dict(self, state: dict) -> None:
        if state["model"] != self.model.cell_type or state["config"] != self.model.config:
            raise CorruptFileError(
                f"checkpoint holds a {state['model']} {state['config']}, not this "
                f"{self.model.cell_type} {self.model.config}"
            )
        dtype = self.model.dtype
        self.model.params = {k: np.asarray(v, dtype=dtype) for k, v in state["params"].items()}
        self.best_params = {k: np.asarray(v, dtype=dtype) for k, v in state["best_params"].items()}
        self.optim_configs = state["optimizer"]["configs"]
        self.epoch = int(state["epoch"])
        self.loss_history = list(state["history"]["train_loss"])
        self.epoch_loss_history = list(state["history"]["epoch_train_loss"])
        self.val_loss_history = list(state["history"]["val_loss"])
        self.best_val_loss = float(state["best_val_loss"])
        self.rng.bit_generator.state = json.loads(state["rng_state"])

    def resume(self, path: str | os.PathLike) -> None:
        """Continue from a `last.pt` written by a solver with the same model and settings."""
        self.load_state_dict(read_checkpoint(path))
