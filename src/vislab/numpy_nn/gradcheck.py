"""Numerical gradients by centred differences, to check the analytic backward passes."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

logger = logging.getLogger(__name__)


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """max |x - y| / max(1e-8, |x| + |y|), elementwise: the course's relative error."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, verbose: bool = True, h: float = 1e-5
) -> np.ndarray:
    """Gradient of the scalar f at x: (f(x + h e_i) - f(x - h e_i)) / 2h for each entry i.

    x: any shape, perturbed in place and restored. `verbose` logs each entry at DEBUG level.
    """
    grad = np.zeros_like(x)
    iterator = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not iterator.finished:
        index = iterator.multi_index
        old_value = x[index]
        x[index] = old_value + h
        f_plus = f(x)
        x[index] = old_value - h
        f_minus = f(x)
        x[index] = old_value
        grad[index] = (f_plus - f_minus) / (2 * h)
        if verbose:
            logger.debug("%s %s", index, grad[index])
        iterator.iternext()
    return grad


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Gradient of sum(f(x) * df) at x, for array-valued f with upstream gradient df."""
    grad = np.zeros_like(x)
    iterator = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not iterator.finished:
        index = iterator.multi_index
        old_value = x[index]
        x[index] = old_value + h
        pos = np.array(f(x), copy=True)
        x[index] = old_value - h
        neg = np.array(f(x), copy=True)
        x[index] = old_value
        grad[index] = np.sum((pos - neg) * df) / (2 * h)
        iterator.iternext()
    return grad
