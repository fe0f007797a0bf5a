"""Pretrained image networks."""

from vislab.backbones.fmnist_cnn import FEATURE_DIM, FashionMNISTCNN, load_fmnist_cnn

__all__ = ["FEATURE_DIM", "FashionMNISTCNN", "load_fmnist_cnn"]
