"""SqueezeNet 1.1: torchvision's state-dict keys and parameter count, local weights only."""

from __future__ import annotations

import pytest
import torch

from vislab.backbones import load_backbone
from vislab.backbones.squeezenet import NUM_PARAMETERS, build_squeezenet1_1
from vislab.errors import CorruptFileError, DataNotFoundError


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two threads spin against each other on a loaded 2-core box
    yield
    torch.set_num_threads(threads)


FIRE_LAYERS = (3, 4, 6, 7, 9, 10, 11, 12)


def torchvision_keys() -> set[str]:
    """The keys of torchvision's squeezenet1_1().state_dict(), written out."""
    keys = {"features.0.weight", "features.0.bias", "classifier.1.weight", "classifier.1.bias"}
    for layer in FIRE_LAYERS:
        for conv in ("squeeze", "expand1x1", "expand3x3"):
            keys |= {f"features.{layer}.{conv}.weight", f"features.{layer}.{conv}.bias"}
    return keys


def test_keys_and_parameter_count_match_torchvision():
    model = build_squeezenet1_1()
    assert set(model.state_dict()) == torchvision_keys()
    assert sum(p.numel() for p in model.parameters()) == NUM_PARAMETERS == 1_235_496
    assert model.state_dict()["features.12.expand3x3.weight"].shape == (256, 64, 3, 3)


def test_loads_weights_from_a_path_and_from_the_hub_cache(tmp_path, monkeypatch):
    state = build_squeezenet1_1().state_dict()
    path = tmp_path / "weights.pth"
    torch.save(state, path)
    classifier = load_backbone("squeezenet1_1", weights=path)
    torch.testing.assert_close(
        classifier.model.state_dict()["classifier.1.bias"], state["classifier.1.bias"]
    )
    assert not any(p.requires_grad for p in classifier.parameters()) and not classifier.training
    with torch.no_grad():
        X = torch.randn(2, 3, 64, 64)
        assert classifier(X).shape == (2, 1000) and classifier.features(X).shape == (2, 512)

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(DataNotFoundError, match="squeezenet1_1-b8a52dc0.pth") as caught:
        load_backbone("squeezenet1_1")
    assert str(tmp_path / "torch" / "hub" / "checkpoints") in str(caught.value)
    cache = tmp_path / "torch" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save(state, cache / "squeezenet1_1-b8a52dc0.pth")
    assert load_backbone("squeezenet1_1").class_names[76] == "tarantula"


def test_bad_weights_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.pth"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptFileError, match="bad.pth"):
        load_backbone("squeezenet1_1", weights=path)
