"""What `vislab info` reports: versions, threads, and where data and weights were found."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from pathlib import Path

from vislab.errors import VislabError

_PACKAGES = ["vislab", "numpy", "torch", "h5py", "pillow", "scikit-image", "torchmetrics"]


def package_versions() -> dict[str, str]:
    """Installed versions of vislab and its main dependencies ("missing" when absent)."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def _locate(finder) -> str:
    """Run a finder that returns a path or raises a VislabError; return a printable answer."""
    try:
        return str(finder())
    except VislabError as error:
        return f"not found ({error})"


def data_locations() -> dict[str, str]:
    """Where each data set and weights file was found, or why not."""
    from vislab.backbones.efficientnet_lite0 import packaged_weights_path
    from vislab.backbones.fmnist_cnn import shipped_weights_path
    from vislab.backbones.squeezenet import find_squeezenet_weights, hub_cache_dir
    from vislab.datasets.mnist import find_mnist_dir

    def fmnist_weights() -> Path:
        path = shipped_weights_path()
        if not path.is_file():
            raise VislabError(f"{path} is missing; run `vislab data train-fmnist-cnn`")
        return path

    def squeezenet_weights() -> Path:
        path = find_squeezenet_weights()
        if path is None:
            raise VislabError(f"put squeezenet1_1-b8a52dc0.pth in {hub_cache_dir()}")
        return path

    locations = {
        "Fashion-MNIST": _locate(find_mnist_dir),
        "Fashion-MNIST CNN weights": _locate(fmnist_weights),
        "EfficientNet-Lite0 weights": _locate(packaged_weights_path),
        "SqueezeNet 1.1 weights": _locate(squeezenet_weights),
    }
    coco = os.environ.get("VISLAB_COCO_DIR")
    locations["COCO captions (VISLAB_COCO_DIR)"] = coco if coco else "not set"
    return locations


def torch_summary() -> dict[str, str]:
    """torch's thread count and whether CUDA is usable."""
    import torch

    return {
        "torch threads": str(torch.get_num_threads()),
        "CUDA": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "not available",
    }
