"""Training the Transformer captioner: the seed's overfit run, checkpoints, resume, loading."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vislab.captioning.transformer import CaptioningTransformer
from vislab.captioning.transformer_captioner import (
    load_transformer_captioner,
    read_transformer_checkpoint,
    train_transformer_captioner,
)
from vislab.captioning.transformer_solver import CaptioningSolverTransformer
from vislab.datasets.coco import load_coco_data, write_coco_data
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError

SMALL = {"wordvec_dim": 32, "num_heads": 2, "num_layers": 1, "max_length": 20}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: on a shared 2-core machine two threads mostly wait for each other
    (the overfit run took 346 s with 2 threads and 46 s with 1 at a load average of 4)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# COCO-like captions: fixed function words around image-specific content words.
TEMPLATE = "a {0} {1} {2} on the {3}"
CHOICES = (
    ("red", "blue", "green", "small", "large"),
    ("man", "woman", "dog", "cat", "bus", "kite"),
    ("sitting", "standing", "playing", "parked"),
    ("grass", "street", "table", "beach", "snow"),
)


def write_course_like_folder(out_dir, num_train=50, num_val=10, seed=0):
    """A course-layout folder whose captions follow TEMPLATE: (num_train, 17) ids, one caption
    per image, random (N, 512) features, as the seed's overfit cell uses."""
    rng = np.random.default_rng(seed)
    idx_to_word = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "on", "the"]
    idx_to_word += [word for group in CHOICES for word in group]
    ids = {word: i for i, word in enumerate(idx_to_word)}

    def captions(count):
        rows = np.zeros((count, 17), dtype=np.int32)
        for row in rows:
            words = TEMPLATE.format(*(group[rng.integers(len(group))] for group in CHOICES))
            tokens = [ids["<START>"], *(ids[w] for w in words.split()), ids["<END>"]]
            row[: len(tokens)] = tokens
        return rows

    return write_coco_data(
        out_dir,
        train_captions=captions(num_train),
        train_image_idxs=np.arange(num_train),
        val_captions=captions(num_val),
        val_image_idxs=np.arange(num_val),
        train_features=rng.standard_normal((num_train, 512)).astype(np.float32),
        val_features=rng.standard_normal((num_val, 512)).astype(np.float32),
        idx_to_word=idx_to_word,
        train_urls=[f"train_{i}.png" for i in range(num_train)],
        val_urls=[f"val_{i}.png" for i in range(num_val)],
    )


def test_seed_overfit_run_memorises_the_training_captions(tmp_path):
    """The seed's cell: seeds 231, 50 captions, wordvec 256, 2 heads, 2 layers, 100 epochs,
    batch 25, learning rate 1e-3: final loss below 0.03, and sampling gives the captions back."""
    folder = write_course_like_folder(tmp_path / "coco_captioning")
    torch.manual_seed(231)
    np.random.seed(231)  # noqa: NPY002 (the seed's cell seeds the global generator)
    data = load_coco_data(folder)
    assert data["train_captions"].shape == (50, 17)
    model = CaptioningTransformer(
        word_to_idx=data["word_to_idx"],
        input_dim=data["train_features"].shape[1],
        wordvec_dim=256,
        num_heads=2,
        num_layers=2,
        max_length=30,
    )
    solver = CaptioningSolverTransformer(
        model,
        data,
        idx_to_word=data["idx_to_word"],
        num_epochs=100,
        batch_size=25,
        learning_rate=0.001,
        verbose=True,
        print_every=10,
        seed=231,
    )
    solver.train()
    assert len(solver.loss_history) == 200
    assert solver.loss_history[-1] < 0.03
    sampled = model.sample(data["train_features"], max_length=30)
    expected = data["train_captions"][:, 1:]
    assert (sampled[:, :16] == expected).all(axis=1).mean() >= 0.96


def test_training_writes_checkpoints_history_and_curve(tiny_coco_dir, tmp_path):
    out = tmp_path / "run"
    result = train_transformer_captioner(
        tiny_coco_dir, out, epochs=2, batch_size=25, seed=3, **SMALL
    )
    assert {p.name for p in out.iterdir()} == {
        "last.pt",
        "best.pt",
        "history.json",
        "loss_curve.png",
        "run.json",
    }
    history = json.loads((out / "history.json").read_text())
    assert len(history["train_loss"]) == 4 and len(history["val_loss"]) == 2
    assert result.history == history and result.best_checkpoint == out / "best.pt"
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["model"] == "transformer" and state["epoch"] == 2
    assert state["config"] == {**SMALL, "input_dim": 512, "dropout": 0.1}
    best = int(np.argmin(history["val_loss"])) + 1
    assert torch.load(out / "best.pt", weights_only=True)["epoch"] == best

    captioner = load_transformer_captioner(out / "best.pt")
    assert captioner.model_name == "transformer"
    assert captioner.idx_to_word[captioner.word_to_idx["<END>"]] == "<END>"
    features = load_coco_data(tiny_coco_dir)["val_features"][:3]
    for beam_size in (1, 3):
        captions = captioner.sample(features, max_length=8, beam_size=beam_size)
        assert captions.shape == (3, 8) and captions.dtype == np.int64
    with pytest.raises(InvalidInputError, match=r"\(N, 512\)"):
        captioner.sample(features[:, :10])


def test_a_chosen_feed_forward_width_is_trained_saved_and_loaded(tiny_coco_dir, tmp_path):
    out = tmp_path / "run"
    train_transformer_captioner(
        tiny_coco_dir, out, epochs=1, batch_size=25, feedforward_dim=48, **SMALL
    )
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["config"] == {**SMALL, "input_dim": 512, "dropout": 0.1, "feedforward_dim": 48}
    assert json.loads((out / "run.json").read_text())["options"]["feedforward_dim"] == 48
    captioner = load_transformer_captioner(out / "best.pt")
    assert captioner.model.transformer.layers[0].linear1.out_features == 48


def test_resume_continues_exactly_like_an_uninterrupted_run(tiny_coco_dir, tmp_path):
    options = {"batch_size": 10, "seed": 5, "max_train": 30, **SMALL}
    whole = train_transformer_captioner(tiny_coco_dir, tmp_path / "whole", epochs=2, **options)
    train_transformer_captioner(tiny_coco_dir, tmp_path / "split", epochs=1, **options)
    resumed = train_transformer_captioner(
        tiny_coco_dir, tmp_path / "split", epochs=2, resume=True, **options
    )
    assert resumed.history == whole.history
    a = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "split" / "last.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_bad_checkpoints_and_devices_are_clear_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="missing.pt does not exist"):
        load_transformer_captioner(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptFileError, match="junk.pt"):
        read_transformer_checkpoint(tmp_path / "junk.pt")
    torch.save({"model": "rnn"}, tmp_path / "rnn.pt")
    with pytest.raises(CorruptFileError, match="rnn.pt is not a vislab checkpoint"):
        read_transformer_checkpoint(tmp_path / "rnn.pt")
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInputError, match="CUDA is not available"):
            load_transformer_captioner(tmp_path / "rnn.pt", device="cuda")
