"""Pretrained image networks."""

from vislab.backbones.classifier import ImageClassifier
from vislab.backbones.fmnist_cnn import FEATURE_DIM, FashionMNISTCNN, load_fmnist_cnn
from vislab.backbones.registry import BACKBONES, load_backbone

__all__ = [
    "BACKBONES",
    "FEATURE_DIM",
    "FashionMNISTCNN",
    "ImageClassifier",
    "load_backbone",
    "load_fmnist_cnn",
]
