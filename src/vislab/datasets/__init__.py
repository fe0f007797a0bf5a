"""On-disk data formats and data builders."""

from vislab.datasets.idx import read_idx, write_idx
from vislab.datasets.mnist import FASHION_MNIST_CLASSES, find_mnist_dir, load_mnist_format

__all__ = [
    "FASHION_MNIST_CLASSES",
    "find_mnist_dir",
    "load_mnist_format",
    "read_idx",
    "write_idx",
]
