"""CaptioningSolver: the seed's overfit runs, memorised captions, checkpoints and exact resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vislab.captioning.numpy_rnn import CaptioningRNN
from vislab.captioning.numpy_solver import CaptioningSolver, read_checkpoint
from vislab.datasets.coco import decode_captions, load_coco_data


def _model(data, cell_type, hidden_dim=512, wordvec_dim=256, seed=231):
    return CaptioningRNN(
        data["word_to_idx"],
        input_dim=data["train_features"].shape[1],
        wordvec_dim=wordvec_dim,
        hidden_dim=hidden_dim,
        cell_type=cell_type,
        rng=np.random.default_rng(seed),
    )


# The seed's recipe: adam, lr 5e-3, 50 epochs of batch 25 on 50 captions. The RNN has the
# seed's sizes (H=512, W=256); the LSTM, 4x the work per step, H=128, W=64 to stay quick.
@pytest.mark.parametrize(
    ("cell_type", "lr_decay", "limit", "hidden_dim", "wordvec_dim"),
    [("rnn", 0.95, 0.1, 512, 256), ("lstm", 0.995, 0.5, 128, 64)],
)
def test_overfit_small_data_and_sample_the_memorised_captions(
    tiny_coco_dir, cell_type, lr_decay, limit, hidden_dim, wordvec_dim
):
    data = load_coco_data(tiny_coco_dir, max_train=50, rng=np.random.default_rng(231))
    model = _model(data, cell_type, hidden_dim, wordvec_dim)
    solver = CaptioningSolver(
        model,
        data,
        update_rule="adam",
        num_epochs=50,
        batch_size=25,
        optim_config={"learning_rate": 5e-3},
        lr_decay=lr_decay,
        verbose=False,
        seed=231,
    )
    solver.train()
    assert len(solver.loss_history) == 100
    assert solver.loss_history[-1] < limit
    captions, images = data["train_captions"], data["train_image_idxs"]
    sampled = model.sample(data["train_features"][images], max_length=16)
    expected = [
        text.removeprefix("<START> ") for text in decode_captions(captions, data["idx_to_word"])
    ]
    got = decode_captions(sampled, data["idx_to_word"])
    assert np.mean([g == e for g, e in zip(got, expected, strict=True)]) >= 0.9


def test_bad_keywords_and_update_rules(tiny_coco_dir):
    data = load_coco_data(tiny_coco_dir)
    model = _model(data, "rnn", 8, 8)
    with pytest.raises(ValueError, match="Unrecognized"):
        CaptioningSolver(model, data, num_epoch=3)
    with pytest.raises(ValueError, match="update_rule"):
        CaptioningSolver(model, data, update_rule="lbfgs")


def _solver(data, tmp_path, epochs, seed=5):
    return CaptioningSolver(
        _model(data, "lstm", 16, 8, seed=1),
        data,
        update_rule="adam",
        optim_config={"learning_rate": 1e-2},
        lr_decay=0.9,
        batch_size=10,
        num_epochs=epochs,
        verbose=False,
        seed=seed,
        checkpoint_dir=tmp_path,
    )


def test_resumed_run_equals_uninterrupted_run(tiny_coco_dir, tmp_path):
    data = load_coco_data(tiny_coco_dir)
    straight = _solver(data, tmp_path / "straight", 4)
    straight.train()
    first = _solver(data, tmp_path / "resumed", 2)
    first.train()
    resumed = _solver(data, tmp_path / "resumed", 4, seed=99)  # seed comes from the checkpoint
    resumed.resume(tmp_path / "resumed" / "last.pt")
    resumed.train()
    assert resumed.loss_history == straight.loss_history
    assert resumed.val_loss_history == straight.val_loss_history
    for name, value in straight.model.params.items():
        np.testing.assert_array_equal(resumed.model.params[name], value)


def test_checkpoints_hold_best_params_and_load_safely(tiny_coco_dir, tmp_path):
    data = load_coco_data(tiny_coco_dir)
    solver = _solver(data, tmp_path, 3)
    solver.train()
    assert len(solver.val_loss_history) == 3
    raw = torch.load(tmp_path / "best.pt", weights_only=True)
    assert raw["model"] == "lstm" and raw["epoch"] == int(np.nanargmin(solver.val_loss_history)) + 1
    best = read_checkpoint(tmp_path / "best.pt")
    for name, value in solver.best_params.items():
        np.testing.assert_array_equal(best["params"][name], value)
    assert solver.best_val_loss == min(solver.val_loss_history)
    assert not list(tmp_path.glob(".*.tmp"))
