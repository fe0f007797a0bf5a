"""Train the Fashion-MNIST CNN (what `vislab data train-fmnist-cnn` runs).

The whole training split lives in memory as one tensor; batches are sliced from a
per-epoch permutation, with random shifts of up to 2 pixels as the only augmentation.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save
from tqdm import tqdm

from vislab.atomic_files import atomic_write_bytes
from vislab.backbones.fmnist_cnn import FashionMNISTCNN, shipped_weights_path
from vislab.datasets.mnist import load_mnist_format
from vislab.errors import InvalidInputError

logger = logging.getLogger(__name__)


@dataclass
class FmnistTrainingResult:
    """What training produced: the model, per-epoch test accuracy and per-step losses."""

    model: torch.nn.Module
    test_accuracy: list[float] = field(default_factory=list)
    loss_history: list[float] = field(default_factory=list)


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 images (N, 28, 28) -> float tensor (N, 1, 28, 28) in [0, 1]."""
    return torch.from_numpy(images).float().div_(255.0).unsqueeze(1)


@torch.no_grad()
def predict(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Class predictions (N,) for images x (N, 1, 28, 28), in eval mode, batch by batch."""
    was_training = model.training
    model.eval()
    out = torch.cat([model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])
    model.train(was_training)
    return out


def _random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to max_shift pixels (zero fill); x: (N, 1, 28, 28)."""
    n, _, height, width = x.shape
    padded = F.pad(x, (max_shift,) * 4)
    offsets = torch.randint(0, 2 * max_shift + 1, (2,), generator=generator).tolist()
    return padded[:, :, offsets[0] : offsets[0] + height, offsets[1] : offsets[1] + width]


def train_fmnist_cnn(
    data_dir: str | os.PathLike | None = None,
    epochs: int = 6,
    batch_size: int = 128,
    learning_rate: float = 3e-3,
    seed: int = 0,
    max_train: int | None = None,
    progress: bool = False,
    build_model: Callable[[], torch.nn.Module] = FashionMNISTCNN,
) -> FmnistTrainingResult:
    """Train a FashionMNISTCNN (or what build_model returns: the judge) with AdamW and a
    one-cycle schedule; returns the result."""
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("max_train", max_train)):
        if value is not None and value < 1:
            raise InvalidInputError(f"{name} must be at least 1, got {value}")
    if not math.isfinite(learning_rate) or learning_rate <= 0:
        raise InvalidInputError(f"learning_rate must be a number above zero, got {learning_rate}")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    train_images, train_labels = load_mnist_format(data_dir, "train")
    test_images, test_labels = load_mnist_format(data_dir, "test")
    if max_train is not None:
        train_images, train_labels = train_images[:max_train], train_labels[:max_train]
    x, y = images_to_tensor(train_images), torch.from_numpy(train_labels)
    x_test, y_test = images_to_tensor(test_images), torch.from_numpy(test_labels)

    model = build_model()
    steps_per_epoch = math.ceil(len(x) / batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=learning_rate, total_steps=epochs * steps_per_epoch
    )
    result = FmnistTrainingResult(model=model)
    name = type(model).__name__
    bar = tqdm(total=epochs * steps_per_epoch, desc=name, disable=not progress)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), batch_size):
            index = order[start : start + batch_size]
            loss = F.cross_entropy(model(_random_shift(x[index], 2, generator)), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            result.loss_history.append(loss.item())
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        accuracy = (predict(model, x_test) == y_test).float().mean().item()
        result.test_accuracy.append(accuracy)
        bar.set_postfix(loss=f"{loss.item():.3f}", test_accuracy=f"{accuracy:.4f}")
        logger.info("epoch %d: test accuracy %.4f", epoch + 1, accuracy)
    bar.close()
    model.eval()
    return result


def save_fmnist_cnn(model: torch.nn.Module, path: str | os.PathLike) -> Path:
    """Save the weights as safetensors, atomically; never over the weights the package ships
    (a retrained file is loaded with `load_fmnist_cnn(weights=path)`)."""
    if Path(path).resolve() == shipped_weights_path().resolve():
        raise InvalidInputError(
            f"{path} is the weights file shipped inside the package; write elsewhere and "
            "pass it as --weights / load_fmnist_cnn(weights=...)"
        )
    state = {name: tensor.detach().contiguous() for name, tensor in model.state_dict().items()}
    return atomic_write_bytes(path, save(state))
