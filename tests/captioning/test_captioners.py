"""The captioner registry (rnn, lstm), its checkpoints, and the sample gallery."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vislab.captioning import CAPTIONERS, load_captioner, load_coco_data, train_captioner
from vislab.captioning.sample_gallery import write_caption_gallery
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError

SMALL = {"batch_size": 25, "hidden_dim": 16, "wordvec_dim": 8, "learning_rate": 1e-2}


@pytest.mark.parametrize("model", ["rnn", "lstm"])
def test_train_then_load_and_sample(tiny_coco_dir, tmp_path, model):
    out = tmp_path / "run"
    result = train_captioner(model, tiny_coco_dir, out, epochs=2, blas_threads=1, **SMALL)
    assert result.best_checkpoint == out / "best.pt"
    for name in ("last.pt", "best.pt", "history.json", "loss_curve.png"):
        assert (out / name).is_file(), name
    assert len(result.history["val_loss"]) == 2 and len(result.history["train_loss"]) == 4
    raw = torch.load(out / "last.pt", weights_only=True)
    assert raw["model"] == model and raw["epoch"] == 2
    captioner = load_captioner(result.best_checkpoint)
    assert captioner.model_name == model
    assert captioner.idx_to_word[:4] == ["<NULL>", "<START>", "<END>", "<UNK>"]
    assert captioner.word_to_idx["<END>"] == 2
    features = load_coco_data(tiny_coco_dir)["val_features"][:3]
    for beam_size in (1, 3):
        captions = captioner.sample(features, max_length=7, beam_size=beam_size)
        assert captions.shape == (3, 7) and np.issubdtype(captions.dtype, np.integer)
    with pytest.raises(InvalidInputError, match=r"features must be \(N, 512\), got \(3, 5\)"):
        captioner.sample(features[:, :5])


def test_resume_through_the_registry_equals_a_straight_run(tiny_coco_dir, tmp_path):
    straight = train_captioner("rnn", tiny_coco_dir, tmp_path / "a", epochs=3, **SMALL)
    train_captioner("rnn", tiny_coco_dir, tmp_path / "b", epochs=1, **SMALL)
    resumed = train_captioner("rnn", tiny_coco_dir, tmp_path / "b", epochs=3, resume=True, **SMALL)
    assert resumed.history == straight.history


def test_registry_errors(tiny_coco_dir, tmp_path):
    assert {"rnn", "lstm"} <= set(CAPTIONERS)
    with pytest.raises(InvalidInputError, match="unknown captioner"):
        train_captioner("gru", tiny_coco_dir, tmp_path)
    with pytest.raises(InvalidInputError, match="does not take: num_heads"):
        train_captioner("rnn", tiny_coco_dir, tmp_path, num_heads=2)
    with pytest.raises(InvalidInputError, match="CPU"):
        train_captioner("rnn", tiny_coco_dir, tmp_path, device="cuda")
    with pytest.raises(DataNotFoundError, match="caption train"):
        load_captioner(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptFileError, match=r"junk\.pt is not a readable vislab checkpoint"):
        load_captioner(tmp_path / "junk.pt")


def test_gallery_png_and_html_with_an_unreachable_image(tiny_coco_dir, tmp_path):
    result = train_captioner("lstm", tiny_coco_dir, tmp_path / "run", epochs=1, **SMALL)
    urls = (tiny_coco_dir / "val2014_urls.txt").read_text().splitlines()
    urls[0] = str(tiny_coco_dir / "gone.png")
    (tiny_coco_dir / "val2014_urls.txt").write_text("\n".join(urls) + "\n")
    png = write_caption_gallery(result.best_checkpoint, tiny_coco_dir, tmp_path / "g.png", num=10)
    assert png.stat().st_size > 1000
    page = write_caption_gallery(result.best_checkpoint, tiny_coco_dir, tmp_path / "g.html", num=10)
    text = page.read_text()
    assert text.count("<figure>") == 10
    assert "image unavailable" in text and text.count("data:image/png;base64,") == 9
    with pytest.raises(InvalidInputError, match="--out must end in .png or .html, not 'g.jpg'"):
        write_caption_gallery(result.best_checkpoint, tiny_coco_dir, tmp_path / "g.jpg")
