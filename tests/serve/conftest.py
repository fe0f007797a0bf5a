"""Tiny runs for the lab's tests: a scene caption set, a captioner and a GAN, all trained for a
few steps in-process through the trainers' own functions, and tiny classifiers."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient
from tests.conftest import make_idx_dir
from torch import nn

from vislab.backbones.classifier import ImageClassifier
from vislab.captioning import train_captioner
from vislab.captioning.sets.scenes import build_scene_captions
from vislab.class_names import imagenet_class_names
from vislab.gan import GanConfig, train_gan
from vislab.serve import Lab, create_app


def tiny_imagenet_classifier(size: int = 32, seed: int = 0) -> ImageClassifier:
    """A random conv net (N, 3, size, size) -> (N, 1000) with the ImageNet class names."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(3, 8, kernel_size=3, padding=1),
        nn.Tanh(),
        nn.AdaptiveAvgPool2d(4),
        nn.Flatten(),
        nn.Linear(8 * 16, 1000),
    )
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    return ImageClassifier("tiny", model, imagenet_class_names(), size, mean, std, model[:4])


TINY_BACKBONES = {"tiny": tiny_imagenet_classifier}


LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """The lab never reaches the network: any connection off this machine fails the test."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            raise AssertionError(f"a connection to {address} left the machine")

    def connect(sock, address):
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        check(sock, address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory) -> Path:
    """runs/scenes (a scene caption set), runs/rnn/best.pt and runs/gan-fc/last.pt."""
    root = tmp_path_factory.mktemp("serve")
    idx = make_idx_dir(root / "idx", num_train=64, num_test=16)
    runs = root / "runs"
    scenes = build_scene_captions(runs / "scenes", num_train=40, num_val=8, fmnist_dir=idx)
    for model in ("rnn", "attention-lstm"):
        train_captioner(
            model, scenes, runs / model, epochs=1, batch_size=20, hidden_dim=16, wordvec_dim=8
        )
    config = GanConfig(model="fc", epochs=1, batch_size=16, num_train=32, show_every=1000)
    images = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    train_gan(images, config, runs / "gan-fc")
    return runs


@pytest.fixture
def make_client(tmp_path):
    """make_client(runs_dir, **lab_options) -> a TestClient over a fresh lab (closed after)."""
    clients = []

    def make(runs_dir, raise_server_exceptions=True, **options):
        options.setdefault("backbones", TINY_BACKBONES)
        temp = tmp_path / f"temp{len(clients)}"
        temp.mkdir()
        client = TestClient(
            create_app(Lab(runs_dir, temp, **options)),
            raise_server_exceptions=raise_server_exceptions,
        )
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
