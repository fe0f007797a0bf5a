"""A captioner loaded from its checkpoint writes exactly the captions of the model it was saved
from (greedy and beam search), for the numpy models and the Transformer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vislab.captioning import (
    CaptioningRNN,
    CaptioningSolver,
    load_captioner,
    load_coco_data,
)
from vislab.captioning.transformer_captioner import train_transformer_captioner


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def assert_same_captions(loaded, model, features, distinct_captions=2):
    distinct = set()
    for beam_size in (1, 3):
        expected = model.sample(features, max_length=10, beam_size=beam_size)
        np.testing.assert_array_equal(
            loaded.sample(features, max_length=10, beam_size=beam_size), expected
        )
        distinct |= {tuple(row) for row in expected}
    assert len(distinct) >= distinct_captions  # the captions depend on the image


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_numpy_checkpoints_reproduce_the_models_captions(tiny_coco_dir, tmp_path, cell_type):
    data = load_coco_data(tiny_coco_dir)
    model = CaptioningRNN(
        data["word_to_idx"], input_dim=data["train_features"].shape[1], wordvec_dim=8,
        hidden_dim=16, cell_type=cell_type, rng=np.random.default_rng(1),
    )  # fmt: skip
    solver = CaptioningSolver(
        model, data, update_rule="adam", optim_config={"learning_rate": 2e-2}, batch_size=10,
        num_epochs=2, verbose=False, seed=5, checkpoint_dir=tmp_path,
    )  # fmt: skip
    solver.train()
    features = data["val_features"][:6]
    assert_same_captions(load_captioner(tmp_path / "last.pt"), model, features)
    model.params = solver.best_params
    assert_same_captions(load_captioner(tmp_path / "best.pt"), model, features)


def test_transformer_checkpoint_reproduces_the_models_captions(tiny_coco_dir, tmp_path):
    result = train_transformer_captioner(
        tiny_coco_dir, tmp_path, epochs=1, batch_size=25, wordvec_dim=16, num_heads=2,
        num_layers=1, max_length=20, seed=3,
    )  # fmt: skip
    features = load_coco_data(tiny_coco_dir)["val_features"][:6]
    loaded = load_captioner(tmp_path / "last.pt")
    # After one epoch every image gets the same caption; the scores say more.
    assert_same_captions(loaded, result.model, features, distinct_captions=1)
    x = torch.as_tensor(features)
    words = torch.randint(
        0, len(loaded.word_to_idx), (6, 9), generator=torch.Generator().manual_seed(0)
    )
    result.model.eval()
    with torch.no_grad():
        assert torch.equal(loaded.model(x, words), result.model(x, words))
