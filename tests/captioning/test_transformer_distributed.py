"""`vislab caption train --model transformer` under DDP: two gloo processes on 127.0.0.1.

One spawn checks it all: a single-process checkpoint resumes under DDP, the two ranks end with
identical parameters equal to a single-process run (dropout 0, so the only difference is the
order of floating-point reductions), only rank 0 writes, and the DDP checkpoint loads in one
process.
"""

from __future__ import annotations

import os
import shutil
import socket

import numpy as np
import pytest
import torch

from vislab.captioning.transformer_captioner import (
    load_transformer_captioner,
    train_transformer_captioner,
)

OPTIONS = {
    "batch_size": 10,
    "seed": 7,
    "max_train": 20,
    "dropout": 0.0,
    "max_val_captions": 10,
    "wordvec_dim": 32,
    "num_heads": 2,
    "num_layers": 1,
    "max_length": 20,
}
# Parameters after 4 Adam steps, K=2 against K=1: float32 reduction order only.
PARAMETER_ATOL = 1e-5
LOSS_RTOL = 1e-5


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: on a shared 2-core machine two threads mostly wait for each other
    (the overfit run took 346 s with 2 threads and 46 s with 1 at a load average of 4)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world_size, port, data_dir, out_dirs, results):
    os.environ.update(
        WORLD_SIZE=str(world_size),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    torch.set_num_threads(1)
    result = train_transformer_captioner(data_dir, out_dirs[rank], epochs=2, resume=True, **OPTIONS)
    results[rank] = (result.history, result.model.state_dict())


def test_two_processes_resume_agree_with_one_and_only_rank_zero_writes(tiny_coco_dir, tmp_path):
    single = train_transformer_captioner(tiny_coco_dir, tmp_path / "single", epochs=2, **OPTIONS)
    train_transformer_captioner(tiny_coco_dir, tmp_path / "rank0", epochs=1, **OPTIONS)
    shutil.copytree(tmp_path / "rank0", tmp_path / "rank1")
    before = {p.name: p.read_bytes() for p in (tmp_path / "rank1").iterdir()}

    manager = torch.multiprocessing.Manager()
    results = manager.dict()
    out_dirs = [tmp_path / "rank0", tmp_path / "rank1"]
    torch.multiprocessing.spawn(
        _worker, args=(2, free_port(), tiny_coco_dir, out_dirs, results), nprocs=2
    )
    (history0, state0), (history1, state1) = results[0], results[1]

    # Rank 1 read its copy of the epoch-1 checkpoint but wrote nothing.
    assert {p.name: p.read_bytes() for p in (tmp_path / "rank1").iterdir()} == before
    assert history0 == history1  # losses are reduced over the ranks
    assert all(torch.equal(state0[name], state1[name]) for name in state0)
    for key in ("train_loss", "val_loss"):
        np.testing.assert_allclose(history0[key], single.history[key], rtol=LOSS_RTOL)
    reference = torch.load(tmp_path / "single" / "last.pt", weights_only=True)["state_dict"]
    for name, value in reference.items():
        assert torch.allclose(state0[name], value, atol=PARAMETER_ATOL), name
    # The DDP checkpoint loads in this single process and holds what rank 0 trained.
    captioner = load_transformer_captioner(tmp_path / "rank0" / "last.pt")
    assert captioner.epoch == 2
    assert all(torch.equal(captioner.model.state_dict()[k], v) for k, v in state0.items())
