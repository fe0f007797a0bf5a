"""First-order update rules: `rule(w, dw, config=None) -> (next_w, config)`.

`w` is never modified; the returned `config` carries the rule's state (velocity, moments)
and is updated in place, so an optimiser keeps one config per parameter.
"""

from __future__ import annotations

import numpy as np


def sgd(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Vanilla SGD: w - learning_rate * dw. Default learning_rate 1e-2."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


def sgd_momentum(
    w: np.ndarray, dw: np.ndarray, config: dict | None = None
) -> tuple[np.ndarray, dict]:
    """SGD with momentum: v = momentum * v - learning_rate * dw; w + v.

    Defaults: learning_rate 1e-2, momentum 0.9, velocity zeros.
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    velocity = config.get("velocity")
    if velocity is None:
        velocity = np.zeros_like(w)
    velocity = config["momentum"] * velocity - config["learning_rate"] * dw
    config["velocity"] = velocity
    return w + velocity, config


def rmsprop(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """RMSProp: cache = decay * cache + (1 - decay) dw^2; w - lr dw / (sqrt(cache) + eps).

    Defaults: learning_rate 1e-2, decay_rate 0.99, epsilon 1e-8, cache zeros.
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache")
    if cache is None:
        cache = np.zeros_like(w)
    decay = config["decay_rate"]
    cache = decay * cache + (1 - decay) * dw * dw
    config["cache"] = cache
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    return next_w, config


def adam(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Adam with bias correction (t counts from 1):

        m = beta1 m + (1 - beta1) dw;   v = beta2 v + (1 - beta2) dw^2
        w - learning_rate * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)

    Defaults: learning_rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8, m = v = 0, t = 0.
    m and v are updated in place (fewer temporaries: this runs on every parameter each step).
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("t", 0)
    if config.get("m") is None:
        config["m"] = np.zeros_like(w)
    if config.get("v") is None:
        config["v"] = np.zeros_like(w)
    beta1, beta2, m, v = config["beta1"], config["beta2"], config["m"], config["v"]
    config["t"] = t = config["t"] + 1
    scratch = np.multiply(dw, 1 - beta1)  # the one temporary, reused below
    m *= beta1
    m += scratch
    np.multiply(dw, dw, out=scratch)
    scratch *= 1 - beta2
    v *= beta2
    v += scratch
    denominator = np.sqrt(v, out=scratch)  # sqrt(v / (1 - beta2^t)) + eps
    denominator *= 1 / np.sqrt(1 - beta2**t)
    denominator += config["epsilon"]
    step = np.divide(m, denominator, out=scratch)
    step *= -config["learning_rate"] / (1 - beta1**t)
    return np.add(w, step, out=step), config
