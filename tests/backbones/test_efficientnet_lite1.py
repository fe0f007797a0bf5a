"""EfficientNet-Lite1 with the packaged ImageNet weights: size, accuracy on real images."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from vislab.backbones import load_backbone
from vislab.datasets import load_imagenet_val
from vislab.errors import CorruptFileError, DataNotFoundError


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model():
    return load_backbone("efficientnet_lite1")


def test_architecture_is_frozen_in_eval_mode(model):
    # efficientnet-lite1: width 1.0, depth 1.1 (the port's efficientnet_params)
    assert sum(p.numel() for p in model.parameters()) == 5_416_680
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert model.input_size == 240 and len(model.class_names) == 1000
    assert model.mean == (0.5, 0.5, 0.5) and model.std == (0.5, 0.5, 0.5)


@pytest.mark.slow
def test_top1_on_the_course_validation_images(model):
    # Measured with mean 0.5 / std 0.5 at 240x240: 19 of 25 (see efficientnet_lite1.py).
    X, y, _ = load_imagenet_val()
    batch = torch.cat([model.preprocess(Image.fromarray(x)) for x in X])
    with torch.no_grad():
        predictions = model(batch).argmax(dim=1).numpy()
    assert (predictions == y).sum() >= 19


def test_bad_weights_files_are_clear_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="missing.pth"):
        load_backbone("efficientnet_lite1", weights=tmp_path / "missing.pth")
    (tmp_path / "bad.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptFileError, match="bad.pth"):
        load_backbone("efficientnet_lite1", weights=tmp_path / "bad.pth")
