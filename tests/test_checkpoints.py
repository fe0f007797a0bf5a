"""vislab.checkpoints: the atomic writer (tag, version, ENOSPC) and the one safe reader."""

from __future__ import annotations

import errno
import io
import os
import zipfile

import numpy as np
import pytest
import torch

from vislab.checkpoints import (
    FORMAT_VERSION,
    CheckpointWriteError,
    checkpoint_errors,
    load_checkpoint,
    load_optimizer_state,
    read_checkpoint,
    save_checkpoint,
    to_numpy,
)
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError

PAYLOAD = {
    "epoch": 3,
    "weights": {"W": np.arange(6, dtype=np.float32).reshape(2, 3)},
    "history": {"loss": [2.5, 1.5]},
    "optimizer": {"state": {0: {"step": torch.tensor(4.0)}}, "betas": (0.5, 0.999)},
    "note": None,
}


class Pickled:
    """Any class: weights_only must refuse to build it."""


def test_round_trip_with_tag_version_and_numpy_arrays(tmp_path):
    path = save_checkpoint(tmp_path / "run" / "last.pt", "vislab-test", PAYLOAD)
    state = load_checkpoint(path, "vislab-test", {"epoch": int, "weights": dict})
    assert state["format"] == "vislab-test" and state["format_version"] == FORMAT_VERSION
    assert torch.equal(state["weights"]["W"], torch.arange(6.0).reshape(2, 3))
    back = to_numpy(state)
    np.testing.assert_array_equal(back["weights"]["W"], PAYLOAD["weights"]["W"])
    assert back["history"] == PAYLOAD["history"] and back["note"] is None
    assert not list(path.parent.glob(".*.tmp"))


def _write(path, obj) -> None:
    torch.save(obj, path)


def _nested(depth: int = 200) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b""), "not a readable vislab checkpoint"),
        (lambda p: p.write_bytes(b"not a checkpoint at all"), "not a readable vislab checkpoint"),
        (lambda p: p.write_bytes(os.urandom(4096)), "not a readable vislab checkpoint"),
        (lambda p: _write(p, {"format": "vislab-test", "x": Pickled()}), "not a readable"),
        (lambda p: _write(p, [1, 2, 3]), "no format tag"),
        (lambda p: _write(p, {"model": "rnn"}), "no format tag"),
        (lambda p: _write(p, {"format": "vislab-test"}), "format version None"),
        (lambda p: _write(p, {"format": "vislab-test", "format_version": 99}), "version 99"),
        (lambda p: _write(p, {"format": "vislab-test", "format_version": True}), "version True"),
        (
            lambda p: _write(p, {"format": "vislab-test", "format_version": 1, "b": b"xy"}),
            "holds a bytes at /b",
        ),
        (
            lambda p: _write(p, {"format": "vislab-test", "format_version": 1, 1.5: 0}),
            "holds a float key",
        ),
        (
            lambda p: _write(p, {"format": "vislab-test", "format_version": 1, "x": _nested()}),
            "nests deeper than 32 levels",
        ),
    ],
)
def test_every_bad_file_is_a_corrupt_file_error_naming_it(tmp_path, make, message):
    path = tmp_path / "bad.pt"
    make(path)
    with pytest.raises(CorruptFileError, match=message) as caught:
        load_checkpoint(path, "vislab-test")
    assert "bad.pt" in str(caught.value) and "\n" not in str(caught.value)


def test_truncated_files_at_every_tenth_are_corrupt(tmp_path):
    good = save_checkpoint(tmp_path / "good.pt", "vislab-test", PAYLOAD).read_bytes()
    for cut in range(0, len(good), max(len(good) // 10, 1)):
        path = tmp_path / f"cut{cut}.pt"
        path.write_bytes(good[:cut])
        with pytest.raises(CorruptFileError, match=f"cut{cut}.pt"):
            read_checkpoint(path)


def test_a_foreign_zip_and_a_pickle_with_code_are_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01")
    (tmp_path / "zip.pt").write_bytes(buffer.getvalue())
    with pytest.raises(CorruptFileError, match="zip.pt"):
        read_checkpoint(tmp_path / "zip.pt")
    (tmp_path / "code.pt").write_bytes(b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.")
    with pytest.raises(CorruptFileError, match="code.pt"):
        read_checkpoint(tmp_path / "code.pt")


def test_kind_required_keys_and_types(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", "vislab-gan", {"epoch": "3", "flag": True})
    with pytest.raises(CorruptFileError, match="vislab-gan checkpoint, not vislab-test"):
        load_checkpoint(path, "vislab-test")
    with pytest.raises(CorruptFileError, match="lacks 'config'"):
        load_checkpoint(path, "vislab-gan", {"config": dict})
    with pytest.raises(CorruptFileError, match="'epoch' is a str"):
        load_checkpoint(path, ("vislab-gan",), {"epoch": int})
    with pytest.raises(CorruptFileError, match="'flag' is a bool"):
        load_checkpoint(path, "vislab-gan", {"flag": int})
    with pytest.raises(DataNotFoundError, match="gone.pt does not exist; train first"):
        load_checkpoint(tmp_path / "gone.pt", "vislab-gan", missing_hint="train first")


def test_a_full_disk_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "last.pt", "vislab-test", {"epoch": 1})
    before = path.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(CheckpointWriteError, match="last.pt .No space left on device.; the prev"):
        save_checkpoint(path, "vislab-test", {"epoch": 2})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]  # no temporary left


def test_checkpoint_errors_name_the_file():
    with pytest.raises(CorruptFileError, match="x.pt does not fit this run .size mismatch"):
        with checkpoint_errors("x.pt"):
            raise RuntimeError("size mismatch for W\nmore lines")
    with pytest.raises(CorruptFileError, match="x.pt: unknown model 'big'"):
        with checkpoint_errors("x.pt"):
            raise InvalidInputError("unknown model 'big'")
    with pytest.raises(ZeroDivisionError):  # a bug is not a damaged file
        with checkpoint_errors("x.pt"):
            raise ZeroDivisionError


@pytest.mark.parametrize(
    ("name", "value"),
    [("lr", "x"), ("lr", float("nan")), ("betas", (0.9,)), ("amsgrad", 1), ("eps", True)],
)
def test_optimizer_hyperparameters_of_another_kind_are_refused(name, value):
    model = torch.nn.Linear(2, 1)
    saved = torch.optim.Adam(model.parameters(), lr=1e-3).state_dict()
    fresh = torch.optim.Adam(model.parameters(), lr=5e-4)
    load_optimizer_state(fresh, saved)
    assert fresh.param_groups[0]["lr"] == 1e-3
    saved["param_groups"][0][name] = value
    with pytest.raises(InvalidInputError, match=f"the optimizer's {name} is"):
        load_optimizer_state(fresh, saved)
