"""Variants by name: `--model fc|dc` and `--loss bce|ls|hinge`, and the run configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from vislab.errors import InvalidInputError
from vislab.gan.data import DATA_SETS, NUM_TRAIN
from vislab.gan.losses import (
    discriminator_loss,
    generator_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    ls_discriminator_loss,
    ls_generator_loss,
)
from vislab.gan.models import (
    NOISE_DIM,
    build_dc_classifier,
    build_dc_generator,
    discriminator,
    generator,
    initialize_weights,
)

LossPair = tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor]]

LOSSES: dict[str, LossPair] = {
    "bce": (discriminator_loss, generator_loss),
    "ls": (ls_discriminator_loss, ls_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
}
MODELS = ("fc", "dc")


@dataclass
class GanConfig:
    """Everything that defines a training run; stored in every checkpoint.

    Defaults are the course's: batch 128, noise 96, Adam(1e-3, 0.5, 0.999), the first
    50,000 training images, a snapshot every 250 iterations.
    """

    model: str = "fc"
    loss: str = "bce"
    epochs: int = 10
    batch_size: int = 128
    noise_dim: int = NOISE_DIM
    learning_rate: float = 1e-3
    show_every: int = 250
    num_train: int = NUM_TRAIN
    seed: int = 0
    data: str = "fashion-mnist"

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise InvalidInputError(f"unknown model {self.model!r}; choose {' or '.join(MODELS)}")
        if self.loss not in LOSSES:
            raise InvalidInputError(
                f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}"
            )
        if self.data not in DATA_SETS:
            raise InvalidInputError(f"unknown data {self.data!r}; choose {' or '.join(DATA_SETS)}")
        for name in ("epochs", "batch_size", "noise_dim", "show_every", "num_train"):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise InvalidInputError(f"learning rate must be positive, got {self.learning_rate}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> GanConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def build_models(
    model: str, noise_dim: int = NOISE_DIM, seed: int = 0
) -> tuple[nn.Module, nn.Module]:
    """(discriminator, generator) of the named pair, initialised from `seed`.

    The DC pair gets the course's Xavier initialisation; the FC pair PyTorch's default,
    as in the notebook.
    """
    if model not in MODELS:
        raise InvalidInputError(f"unknown model {model!r}; choose {' or '.join(MODELS)}")
    torch.manual_seed(seed)
    if model == "fc":
        return discriminator(), generator(noise_dim)
    D, G = build_dc_classifier(128), build_dc_generator(noise_dim)
    D.apply(initialize_weights)
    G.apply(initialize_weights)
    return D, G


def loss_pair(loss: str) -> LossPair:
    """(discriminator_loss, generator_loss) registered under `loss`."""
    if loss not in LOSSES:
        raise InvalidInputError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[loss]
