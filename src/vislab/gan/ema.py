"""An exponential moving average (EMA) of the generator's weights, kept beside the raw one.

After every generator step: theta_ema <- beta_t * theta_ema + (1 - beta_t) * theta, with the
warm-up beta_t = min(decay, (1 + t) / (10 + t)) at update t (as TensorFlow's
ExponentialMovingAverage with num_updates), so a short run is not dominated by its random
start. Averaging the iterates smooths the oscillation of GAN training and is the standard
in modern GANs (Karras et al. 2018, Yazici et al. 2019). Buffers (BatchNorm's running
statistics) are copied from the raw generator, not averaged. Training never reads the
average, so a run with EMA trains exactly as the same run without it.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema(G: nn.Module) -> nn.Module:
    """A frozen copy of generator G (the average starts at G's weights)."""
    average = copy.deepcopy(G)
    average.requires_grad_(False)
    return average


def ema_decay_at(decay: float, update: int) -> float:
    """beta_t = min(decay, (1 + t) / (10 + t)) for update t = 0, 1, ..."""
    return min(decay, (1 + update) / (10 + update))


@torch.no_grad()
def update_ema(average: nn.Module, G: nn.Module, decay: float, update: int) -> None:
    """One EMA step of `average` towards G's current weights; G's buffers are copied."""
    beta = ema_decay_at(decay, update)
    for mean, current in zip(average.parameters(), G.parameters(), strict=True):
        mean.lerp_(current, 1 - beta)  # mean + (1 - beta) (current - mean)
    for mine, theirs in zip(average.buffers(), G.buffers(), strict=True):
        mine.copy_(theirs)
