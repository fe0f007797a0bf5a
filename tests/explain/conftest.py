"""Tiny classifiers with known structure for the explain tests."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vislab.backbones.classifier import ImageClassifier
from vislab.backbones.registry import load_backbone


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: on a loaded 2-core machine two threads spin against each other
    and small convolutions run up to 100x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


NAMES = ("alpha", "beta", "gamma", "delta", "epsilon")


def tiny_cnn_classifier(channels: int = 3, size: int = 16, seed: int = 0) -> ImageClassifier:
    """A random conv net (N, C, size, size) -> (N, 5) with class names."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(channels, 8, kernel_size=3, padding=1),
        nn.Tanh(),
        nn.AdaptiveAvgPool2d(4),
        nn.Flatten(),
        nn.Linear(8 * 16, len(NAMES)),
    )
    mean, std = [0.5] * channels, [0.25] * channels
    return ImageClassifier("tiny_cnn", model, NAMES, size, mean, std, model[:4])


def linear_classifier(channels: int = 3, size: int = 6, seed: int = 0) -> ImageClassifier:
    """scores = W x + b on the flattened image: d score_y / d x = W[y]."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(channels * size * size, len(NAMES)))
    mean, std = [0.5] * channels, [0.25] * channels
    return ImageClassifier("linear", model, NAMES, size, mean, std, model[0])


@pytest.fixture
def tiny_cnn() -> ImageClassifier:
    return tiny_cnn_classifier()


@pytest.fixture
def make_tiny_cnn():
    return tiny_cnn_classifier


@pytest.fixture
def linear() -> ImageClassifier:
    return linear_classifier()


@pytest.fixture(scope="session")
def efficientnet() -> ImageClassifier:
    return load_backbone("efficientnet_lite0")
