"""Class targets given as indices or names, resolved against a model's class names."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from vislab.backbones.classifier import ImageClassifier
from vislab.class_names import class_index
from vislab.errors import InvalidInputError

Target = int | str


def class_names_of(model: nn.Module) -> tuple[str, ...] | None:
    """The model's class names when it is an ImageClassifier, else None."""
    return model.class_names if isinstance(model, ImageClassifier) else None


def target_index(target: Target, model: nn.Module) -> int:
    """One class given as an index or (for models with class names) a name -> index."""
    names = class_names_of(model)
    if names is not None:
        return class_index(target, names)
    if isinstance(target, str) and not target.isdigit():
        raise InvalidInputError(f"class name {target!r} needs a model with class names")
    return int(target)


def target_tensor(
    targets: torch.Tensor | Sequence[Target] | Target, model: nn.Module, num: int
) -> torch.Tensor:
    """Targets for a batch of `num` images -> LongTensor (num,). A single target is repeated."""
    if isinstance(targets, torch.Tensor):
        indices = targets.long().reshape(-1)
    elif isinstance(targets, (str, int)):
        indices = torch.full((num,), target_index(targets, model), dtype=torch.long)
    else:
        indices = torch.tensor([target_index(t, model) for t in targets], dtype=torch.long)
    if indices.numel() == 1 and num > 1:
        indices = indices.expand(num)
    if indices.numel() != num:
        raise InvalidInputError(f"got {indices.numel()} targets for {num} images")
    return indices
