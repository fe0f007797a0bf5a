"""Every loader refuses a file carrying a pickle payload, and the payload never runs.

The payload is an object whose `__reduce__` runs `touch MARKER` when unpickled, hidden inside
an otherwise well-formed checkpoint (format tag, version, the keys each loader requires). A
loader that unpickled arbitrary objects (`torch.load(weights_only=False)`, `np.load(...,
allow_pickle=True)`) would create the marker; each must instead raise CorruptFileError naming
the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from vislab.backbones.squeezenet import load_squeezenet1_1
from vislab.captioning import CaptioningRNN, CaptioningSolver, load_captioner
from vislab.captioning.numpy_captioner import load_numpy_captioner
from vislab.captioning.numpy_solver import read_checkpoint
from vislab.captioning.transformer_captioner import (
    load_transformer_captioner,
    read_transformer_checkpoint,
)
from vislab.datasets.imagenet import load_imagenet_val
from vislab.errors import CorruptFileError
from vislab.gan import load_checkpoint, load_generator
from vislab.gan.sampling import sample_checkpoint


class Payload:
    """Unpickling this runs `touch marker`."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def booby_trapped(path: Path, marker: Path, kind: str, model: str) -> Path:
    """A checkpoint with the tag and keys of `kind`, and the payload inside its config."""
    state = {
        "format": kind, "format_version": 1, "model": model,
        "config": {"hidden_dim": 4, "extra": Payload(marker)},
        "word_to_idx": {"<NULL>": 0}, "params": {}, "best_params": {}, "optimizer": {},
        "epoch": 1, "step": 0, "iteration": 1, "history": {}, "best_val_loss": 1.0, "rng": {},
        "discriminator": {}, "generator": {}, "model_state": {},
    }  # fmt: skip
    torch.save(state, path)
    return path


def numpy_solver_resume(path):
    word_to_idx = {"<NULL>": 0, "<START>": 1, "<END>": 2}
    model = CaptioningRNN(word_to_idx, 3, 2, 2, rng=np.random.default_rng(0))
    data = {"train_captions": np.ones((4, 3), dtype=np.int64)}
    CaptioningSolver(model, data, seed=0).resume(path)


LOADERS = {
    "captioner registry": ("vislab-captioner-numpy", "lstm", load_captioner),
    "numpy captioner": ("vislab-captioner-numpy", "lstm", load_numpy_captioner),
    "numpy checkpoint": ("vislab-captioner-numpy", "rnn", read_checkpoint),
    "numpy solver resume": ("vislab-captioner-numpy", "rnn", numpy_solver_resume),
    "transformer registry": ("vislab-captioner-transformer", "transformer", load_captioner),
    "transformer captioner": ("vislab-captioner-transformer", "transformer",
                              load_transformer_captioner),
    "transformer checkpoint": ("vislab-captioner-transformer", "transformer",
                               read_transformer_checkpoint),
    "gan checkpoint": ("vislab-gan", "fc", load_checkpoint),
    "gan generator": ("vislab-gan", "fc", load_generator),
    "gan sample": ("vislab-gan", "fc", lambda path: sample_checkpoint(path, path.with_suffix(
        ".png"))),
    "squeezenet weights": ("", "", lambda path: load_squeezenet1_1(weights=path)),
}  # fmt: skip


@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_a_pickle_payload_is_refused_and_never_runs(tmp_path, loader):
    kind, model, load = LOADERS[loader]
    marker = tmp_path / "payload-ran"
    path = booby_trapped(tmp_path / "trap.pt", marker, kind, model)
    with pytest.raises(CorruptFileError, match=r"trap\.pt"):
        load(path)
    assert not marker.exists()


def test_the_payload_does_run_when_unpickled(tmp_path):
    """The trap is armed: unpickling it for real creates the marker (so the test above can
    fail)."""
    marker = tmp_path / "payload-ran"
    path = booby_trapped(tmp_path / "trap.pt", marker, "vislab-gan", "fc")
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_an_npz_with_an_object_array_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "payload-ran"
    path = tmp_path / "trap.npz"
    images = np.empty(2, dtype=object)
    images[:] = [Payload(marker), Payload(marker)]
    np.savez(path, X=images, y=np.array([0, 1]), class_ids=np.array([0, 1]),
             class_names=np.array(["a", "b"]))  # fmt: skip
    with pytest.raises(CorruptFileError, match=r"trap\.npz"):
        load_imagenet_val(path)
    assert not marker.exists()
