"""Variants by name: `--model fc|dc`, `--loss bce|ls|hinge`, `--recipe`, and the run configuration.

Two options go beyond the course and are off by default (the course's runs are unchanged):
spectral normalisation of every discriminator layer's weight (Miyato et al. 2018, torch's
parametrization) and an EMA of the generator's weights (`vislab.gan.ema`). A recipe is a
named set of these choices; "strong" is DCGAN + spectral norm + hinge loss + EMA 0.999,
trained for the course DCGAN's epochs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn
from torch.nn.utils import parametrizations

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
RECIPES: dict[str, dict] = {
    "course": {},
    "strong": {"model": "dc", "loss": "hinge", "spectral_norm": True, "ema_decay": 0.999},
}


@dataclass
class GanConfig:
    """Everything that defines a training run; stored in every checkpoint.

    Defaults are the course's: batch 128, noise 96, Adam(1e-3, 0.5, 0.999), the first
    50,000 training images, a snapshot every 250 iterations, no spectral norm, no EMA
    (ema_decay 0).
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
    spectral_norm: bool = False
    ema_decay: float = 0.0

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
        if self.model == "dc" and self.batch_size < 2:
            raise InvalidInputError(
                f"batch size {self.batch_size} cannot train the dc model: its BatchNorm layers "
                "need a batch of at least 2 images"
            )
        if not 0 <= self.ema_decay < 1:
            raise InvalidInputError(f"EMA decay must be in [0, 1), got {self.ema_decay}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> GanConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def build_models(
    model: str, noise_dim: int = NOISE_DIM, seed: int = 0, spectral_norm: bool = False
) -> tuple[nn.Module, nn.Module]:
    """(discriminator, generator) of the named pair, initialised from `seed`.

    The DC pair gets the course's Xavier initialisation; the FC pair PyTorch's default,
    as in the notebook. `spectral_norm` then reparametrises every Linear/Conv2d weight of
    the discriminator as W / sigma(W) (one power iteration per training forward); the
    initial weights are the same either way.
    """
    if model not in MODELS:
        raise InvalidInputError(f"unknown model {model!r}; choose {' or '.join(MODELS)}")
    torch.manual_seed(seed)
    if model == "fc":
        D, G = discriminator(), generator(noise_dim)
    else:
        D, G = build_dc_classifier(128), build_dc_generator(noise_dim)
        D.apply(initialize_weights)
        G.apply(initialize_weights)
    if spectral_norm:
        for layer in list(D.modules()):  # a list: parametrizing adds modules
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                parametrizations.spectral_norm(layer)
    return D, G


def recipe_choices(recipe: str) -> dict:
    """The settings a named recipe fixes (model, loss, spectral_norm, ema_decay)."""
    if recipe not in RECIPES:
        raise InvalidInputError(f"unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}")
    return dict(RECIPES[recipe])


def loss_pair(loss: str) -> LossPair:
    """(discriminator_loss, generator_loss) registered under `loss`."""
    if loss not in LOSSES:
        raise InvalidInputError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[loss]
