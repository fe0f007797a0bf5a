"""`write_caption_gallery` with its defaults on a Transformer built for short captions."""

from __future__ import annotations

import pytest
import torch

from vislab.captioning.sample_gallery import caption_images
from vislab.captioning.transformer_captioner import train_transformer_captioner


@pytest.fixture
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.usefixtures("one_torch_thread")
def test_the_default_length_is_the_transformers_own_when_shorter(tiny_coco_dir, tmp_path):
    # The tiny captions are 17 tokens with <START>: a model built for 17 positions can never
    # decode the course's default 30 words, so the gallery must stop at its own length.
    run = train_transformer_captioner(
        tiny_coco_dir, tmp_path / "run", epochs=1, batch_size=25, wordvec_dim=16,
        num_heads=2, num_layers=1, max_length=17,
    )  # fmt: skip
    items = caption_images(run.best_checkpoint, tiny_coco_dir, num=2, beam_size=1)
    assert len(items) == 2
    assert all(len(item.generated.split()) <= 17 for item in items)
    with pytest.raises(Exception, match="max_length 17"):
        caption_images(run.best_checkpoint, tiny_coco_dir, num=2, beam_size=1, max_length=30)
