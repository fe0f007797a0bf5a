"""On-disk data formats and their readers (builders of caption sets: vislab.captioning.sets)."""

from vislab.class_names import FASHION_MNIST_CLASSES, imagenet_class_names
from vislab.datasets.idx import read_idx, write_idx
from vislab.datasets.imagenet import load_imagenet_val
from vislab.datasets.mnist import find_mnist_dir, load_mnist_format
from vislab.datasets.sample_photos import SAMPLE_PHOTOS, load_image, load_sample_photo

__all__ = [
    "FASHION_MNIST_CLASSES",
    "SAMPLE_PHOTOS",
    "find_mnist_dir",
    "imagenet_class_names",
    "load_image",
    "load_imagenet_val",
    "load_mnist_format",
    "load_sample_photo",
    "read_idx",
    "write_idx",
]
