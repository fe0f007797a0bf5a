"""In-memory batches, the course's sampler, and reading an MNIST-format folder."""

from __future__ import annotations

import pytest
import torch

from vislab.errors import DataNotFoundError, InvalidInputError
from vislab.gan import ChunkSampler, TensorBatches, load_gan_images


def test_chunk_sampler_is_a_contiguous_range():
    sampler = ChunkSampler(5, start=10)
    assert list(sampler) == [10, 11, 12, 13, 14] and len(sampler) == 5


def test_tensor_batches_slice_in_order_with_a_short_last_batch():
    images = torch.arange(10.0).view(10, 1, 1, 1)
    labels = torch.arange(10)
    batches = list(TensorBatches(images, labels, batch_size=4, sampler=ChunkSampler(7, start=2)))
    assert [b[1].tolist() for b in batches] == [[2, 3, 4, 5], [6, 7, 8]]
    assert batches[0][0].data_ptr() == images[2:].data_ptr()  # a view, no copy
    assert len(TensorBatches(images, labels, batch_size=4)) == 3


def test_tensor_batches_follow_any_sampler_order():
    images, labels = torch.zeros(6, 1, 2, 2), torch.arange(6)
    batches = list(TensorBatches(images, labels, batch_size=2, sampler=[5, 0, 3]))
    assert [b[1].tolist() for b in batches] == [[5, 0], [3]]
    with pytest.raises(InvalidInputError, match="6 images but 3 labels"):
        TensorBatches(images, labels[:3])


def test_load_gan_images_reads_a_folder(tiny_idx_dir):
    images, labels = load_gan_images("mnist", tiny_idx_dir)
    assert images.shape == (64, 1, 28, 28) and images.dtype == torch.float32
    assert 0 <= images.min() and images.max() <= 1 and images.max() > 0.7
    assert labels.dtype == torch.int64 and labels[:10].tolist() == list(range(10))
    test_images, _ = load_gan_images("fashion-mnist", tiny_idx_dir, split="test")
    assert len(test_images) == 32


def test_mnist_without_a_folder_says_how_to_get_it(monkeypatch):
    monkeypatch.delenv("VISLAB_DATA_DIR", raising=False)
    with pytest.raises(DataNotFoundError, match="--data-dir"):
        load_gan_images("mnist")
    with pytest.raises(InvalidInputError, match="unknown data set"):
        load_gan_images("cifar")
