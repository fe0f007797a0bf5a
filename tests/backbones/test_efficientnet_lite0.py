"""EfficientNet-Lite0 with the packaged ImageNet weights: accuracy on real images."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from vislab.backbones import BACKBONES, load_backbone
from vislab.datasets import load_imagenet_val, load_sample_photo
from vislab.errors import InvalidInputError


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two threads spin against each other on a loaded 2-core box
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model():
    return load_backbone("efficientnet_lite0")


def test_architecture_is_frozen_in_eval_mode(model):
    assert sum(p.numel() for p in model.parameters()) == 4_652_008
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert model.input_size == 224 and len(model.class_names) == 1000


def test_top1_on_the_course_validation_images(model):
    # Measured with the chosen normalisation (mean 0.5, std 0.5): 17 of 25. The others
    # score 15 (ImageNet mean/std) and 15 ([0, 1]); see efficientnet_lite0.py.
    X, y, _ = load_imagenet_val()
    batch = torch.cat([model.preprocess(Image.fromarray(x)) for x in X])
    with torch.no_grad():
        predictions = model(batch).argmax(dim=1).numpy()
    assert (predictions == y).sum() >= 17


def test_sample_photos_are_recognised(model):
    batch = torch.cat([model.preprocess(load_sample_photo(n)) for n in ("chelsea", "coffee")])
    with torch.no_grad():
        predicted = model(batch).argmax(dim=1).tolist()
    assert predicted[0] in {281, 282, 285}  # tabby, tiger cat, Egyptian cat
    assert predicted[1] == model.class_index("espresso") == 967
    assert model.features(batch).shape == (2, 1280)


def test_preprocess_and_deprocess_round_trip(model):
    array = np.random.default_rng(0).integers(0, 256, size=(224, 224, 3), dtype=np.uint8)
    x = model.preprocess(Image.fromarray(array))
    assert x.shape == (1, 3, 224, 224) and -1 <= x.min() and x.max() <= 1
    back = np.asarray(model.deprocess(x, should_rescale=False)).astype(int)
    assert np.abs(back - array).max() <= 1
    wide = model.preprocess(Image.fromarray(np.zeros((100, 300, 3), dtype=np.uint8)))
    assert wide.shape == (1, 3, 224, 224)


def test_fashion_mnist_classifier_takes_any_image_as_28x28_gray():
    model = load_backbone("fmnist_cnn")
    x = model.preprocess(load_sample_photo("coffee"))
    assert x.shape == (1, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert model.deprocess(x).mode == "L" and model.class_index("Ankle boot") == 9
    assert model.features(x).shape == (1, 256)


def test_unknown_backbone_is_a_clear_error():
    assert set(BACKBONES) == {
        "efficientnet_lite0",
        "efficientnet_lite1",
        "squeezenet1_1",
        "fmnist_cnn",
        "fmnist_judge",
    }
    with pytest.raises(InvalidInputError, match="choose from"):
        load_backbone("resnet50")
