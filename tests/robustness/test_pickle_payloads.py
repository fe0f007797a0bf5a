"""Files that carry a pickle payload: every loader refuses them before any object is built.

The payload would create a file if it ran; each loader must raise CorruptFileError naming
the file, and the file must not appear.
"""

from __future__ import annotations

import os
import pickle
import warnings

import numpy as np
import pytest
import torch

from vislab.captioning.captioners import load_captioner
from vislab.datasets.imagenet import load_imagenet_val
from vislab.errors import CorruptFileError
from vislab.gan.checkpoints import load_generator


class Payload:
    """Unpickling this runs `touch <marker>`."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("load", [load_captioner, load_generator], ids=["captioner", "gan"])
def test_checkpoints_with_a_pickle_payload_are_refused(tmp_path, load):
    marker = tmp_path / "PAYLOAD-RAN"
    path = tmp_path / "evil.pt"
    torch.save({"format": "vislab-gan", "format_version": 1, "config": Payload(marker)}, path)
    with pytest.raises(CorruptFileError, match="evil.pt"):
        load(path)
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps(Payload(marker)))  # a bare pickle, not even a torch zip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(CorruptFileError, match="plain.pkl"):
            load(plain)
    assert not caught, "the refusal is the one message a user sees: no torch warning above it"
    assert not marker.exists()


def test_npz_with_object_arrays_is_refused(tmp_path):
    marker = tmp_path / "PAYLOAD-RAN"
    path = tmp_path / "evil.npz"
    objects = np.empty(1, dtype=object)
    objects[0] = Payload(marker)
    np.savez(path, X=objects, y=np.array([0]))
    with pytest.raises(CorruptFileError, match="evil.npz"):
        load_imagenet_val(path)
    assert not marker.exists()
