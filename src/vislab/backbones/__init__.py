"""Pretrained image networks."""

from vislab.backbones.classifier import BACKBONES, ImageClassifier, load_backbone
from vislab.backbones.fmnist_cnn import FEATURE_DIM, FashionMNISTCNN, load_fmnist_cnn

__all__ = [
    "BACKBONES",
    "FEATURE_DIM",
    "FashionMNISTCNN",
    "ImageClassifier",
    "load_backbone",
    "load_fmnist_cnn",
]
