"""What every training loop checks after each step: a stop signal, the checkpoint clock, and
whether the loss is still finite.

    with RunGuard(folder, every, save, context) as guard:
        for each step:
            loss = ...
            guard.check_finite(loss, iteration, epoch)   # before the update is applied
            ...update...
            guard.after_step(iteration)   # SIGTERM/SIGINT: write last.pt, raise RunInterrupted

`save(path)` writes the loop's whole state to `path` (the loop's own function). Under DDP
every rank runs the same guard: the stop flag is all-reduced so all ranks stop at the same
step, and only rank 0 writes. A checkpoint between epochs is due every `--checkpoint-every`
(a time such as `5min`, the default, or a number of iterations such as `200it`).
"""

from __future__ import annotations

import logging
import math
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vislab.errors import InvalidInputError, RunInterrupted, VislabError
from vislab.runs import RunFolder

logger = logging.getLogger(__name__)

DEFAULT_CHECKPOINT_EVERY = "5min"
_UNITS = {"s": 1, "min": 60, "h": 3600}


class TrainingDivergedError(VislabError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass(frozen=True)
class CheckpointEvery:
    """How often a checkpoint is written within an epoch: `seconds` or `iterations`."""

    seconds: float | None = None
    iterations: int | None = None

    @classmethod
    def parse(cls, text: str | CheckpointEvery) -> CheckpointEvery:
        """`30s`, `5min`, `1h` or `200it` -> CheckpointEvery; anything else is refused."""
        if isinstance(text, CheckpointEvery):
            return text
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(s|min|h|it)\s*", str(text))
        if not match or float(match.group(1)) <= 0:
            raise InvalidInputError(
                f"--checkpoint-every {text!r}: give a time such as 30s, 5min or 1h, or a "
                "number of iterations such as 200it"
            )
        number, unit = match.groups()
        if unit == "it":
            if not number.isdigit():
                raise InvalidInputError(f"--checkpoint-every {text!r}: iterations are whole")
            return cls(iterations=int(number))
        return cls(seconds=float(number) * _UNITS[unit])


class RunGuard:
    """Signals, the mid-epoch checkpoint clock and the finite-loss check of one training run."""

    def __init__(
        self,
        folder: RunFolder | None,
        every: str | CheckpointEvery,
        save: Callable[[Path], object],
        context=None,
        parameters: Callable[[], Iterable] | None = None,
    ):
        self.folder, self.save, self.context = folder, save, context
        self.parameters = parameters  # () -> the arrays/tensors that must be finite to save
        self.every = CheckpointEvery.parse(every)
        self.iteration = 0
        self.is_main = context is None or context.is_main
        self.last_write = time.monotonic()
        self.signal_name: str | None = None
        self._previous: dict = {}

    # Signals: the first SIGINT/SIGTERM asks the loop to stop after its step; a second SIGINT
    # interrupts at once (KeyboardInterrupt), as a user pressing Ctrl-C twice expects.
    def _handle(self, number, frame) -> None:
        if self.signal_name is not None and number == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(number).name
        logger.warning("%s received: saving a checkpoint and stopping", self.signal_name)

    def __enter__(self) -> RunGuard:
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _stop_requested(self) -> bool:
        flag = self.signal_name is not None
        if self.context is not None and self.context.is_distributed:
            flag = bool(self.context.all_reduce_mean(torch.tensor([float(flag)])).item() > 0)
        return flag

    def _due(self, iteration: int) -> bool:
        if self.every.iterations is not None:
            return iteration % self.every.iterations == 0
        return time.monotonic() - self.last_write >= self.every.seconds

    def write(self) -> Path | None:
        """Write last.pt now (rank 0); returns its path (None without a run folder).

        Parameters that are no longer finite are never saved over the last good checkpoint.
        """
        if self.folder is None:
            return None
        if self.parameters is not None and not all(map(_finite, self.parameters())):
            raise TrainingDivergedError(
                f"the parameters became non-finite by iteration {self.iteration}; "
                f"{self._kept()}: try a lower learning rate (--learning-rate)"
            )
        if self.is_main:
            self.save(self.folder.last)
        self.last_write = time.monotonic()
        return self.folder.last

    def after_step(self, iteration: int) -> None:
        """Call after each completed step; `iteration`: steps completed so far in the run."""
        self.iteration = iteration
        if self._stop_requested():
            path = self.write()
            if self.context is not None:
                self.context.barrier()  # no rank leaves before rank 0 has written
            kept = (
                f"the run is saved in {path}: continue it with --resume"
                if path
                else ("nothing was saved (no output folder)")
            )
            raise RunInterrupted(
                f"stopped by {self.signal_name or 'a signal to another process'} after "
                f"iteration {iteration}; {kept}",
                checkpoint=path,
            )
        if self._due(iteration):
            self.write()

    def check_finite(self, values: dict[str, float], iteration: int, epoch: int) -> None:
        """Stop with TrainingDivergedError when a loss is NaN or infinite (before the update).

        values: {"loss": 2.3} or {"D": ..., "G": ...}; iteration: 0-based index of the step;
        epoch: 1-based epoch it belongs to.
        """
        if all(math.isfinite(value) for value in values.values()):
            return
        shown = ", ".join(f"{name} {value}" for name, value in values.items())
        raise TrainingDivergedError(
            f"the loss became non-finite ({shown}) at iteration {iteration} of epoch {epoch}; "
            f"{self._kept()}: try a lower learning rate (--learning-rate)"
        )

    def _kept(self) -> str:
        last = self.folder.last if self.folder is not None else None
        if last is not None and last.is_file():
            return f"the last good checkpoint {last} is kept"
        return "no checkpoint had been written yet"


def _finite(value) -> bool:
    if isinstance(value, torch.Tensor):
        return bool(torch.isfinite(value).all())
    return bool(np.isfinite(value).all())
