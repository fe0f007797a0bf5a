"""The one seeding helper: seeds Python, numpy and torch together."""

from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int) -> np.random.Generator:
    """Seed `random`, numpy's legacy global state and torch; return a fresh numpy Generator."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - the course code draws from the global state
    try:
        import torch
    except ImportError:  # numpy-only callers
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
