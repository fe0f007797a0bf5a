"""GAN training data: whole MNIST-format data sets as one in-memory tensor, sliced into batches.

The course feeds a torchvision DataLoader with `ChunkSampler`; here the images are decoded
once into a (N, 1, 28, 28) float tensor and each batch is a slice or an index into it, so an
epoch costs compute, not per-sample Python loading.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import torch

from vislab.datasets import load_mnist_format
from vislab.errors import DataNotFoundError, InvalidInputError

NUM_TRAIN = 50000
NUM_VAL = 5000
DATA_SETS = ("fashion-mnist", "mnist")


class ChunkSampler:
    """Indices start, start+1, ..., start+num_samples-1, in order (the course's sampler)."""

    def __init__(self, num_samples: int, start: int = 0):
        self.num_samples = num_samples
        self.start = start

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.start, self.start + self.num_samples))

    def __len__(self) -> int:
        return self.num_samples


class TensorBatches:
    """A DataLoader stand-in over in-memory tensors: yields (images, labels) batches.

    images: (N, 1, 28, 28) floats in [0, 1]; labels: (N,) int64. The sampler gives the
    order (default: all items in order); the last batch may be short, as with DataLoader.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int = 128,
        sampler: ChunkSampler | None = None,
    ):
        if len(images) != len(labels):
            raise InvalidInputError(f"{len(images)} images but {len(labels)} labels")
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.sampler = sampler or ChunkSampler(len(images))

    def __len__(self) -> int:
        return -(-len(self.sampler) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if isinstance(self.sampler, ChunkSampler):  # contiguous: slices are views, no copy
            start, stop = self.sampler.start, self.sampler.start + len(self.sampler)
            for i in range(start, stop, self.batch_size):
                end = min(i + self.batch_size, stop)
                yield self.images[i:end], self.labels[i:end]
            return
        order = torch.as_tensor(list(self.sampler), dtype=torch.long)
        for i in range(0, len(order), self.batch_size):
            index = order[i : i + self.batch_size]
            yield self.images[index], self.labels[index]


def load_gan_images(
    data: str = "fashion-mnist",
    data_dir: str | os.PathLike | None = None,
    split: str = "train",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode a whole split: images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64.

    "fashion-mnist" reads Debian's package (or `data_dir` / VISLAB_DATA_DIR); "mnist" needs
    `data_dir` or VISLAB_DATA_DIR pointing at the MNIST IDX files.
    """
    if data not in DATA_SETS:
        raise InvalidInputError(f"unknown data set {data!r}; choose one of {', '.join(DATA_SETS)}")
    if data == "mnist" and data_dir is None and not os.environ.get("VISLAB_DATA_DIR"):
        raise DataNotFoundError(
            "--data mnist needs the MNIST IDX files (train-images-idx3-ubyte[.gz] and friends): "
            "pass --data-dir DIR or set VISLAB_DATA_DIR; vislab downloads nothing"
        )
    images, labels = load_mnist_format(data_dir, split=split)
    pixels = torch.from_numpy(images).to(torch.float32).div_(255.0).unsqueeze(1)
    return pixels, torch.from_numpy(labels).to(torch.int64)
