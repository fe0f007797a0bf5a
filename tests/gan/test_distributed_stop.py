"""A signal under DDP: when one rank is told to stop, every rank stops after the same step and
only rank 0 writes the checkpoint (two gloo processes on 127.0.0.1)."""

from __future__ import annotations

import os
import socket

import torch

from vislab.errors import RunInterrupted
from vislab.gan import GanConfig, load_checkpoint, train_gan
from vislab.run_guard import RunGuard
from vislab.torch_nn.distributed import init_from_env

CONFIG = GanConfig(model="fc", loss="ls", epochs=2, batch_size=8, noise_dim=8, show_every=100,
                   num_train=32, seed=1)  # fmt: skip


def _worker(rank, world_size, port, root, results):
    os.environ.update(
        WORLD_SIZE=str(world_size), RANK=str(rank), LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
    )  # fmt: skip
    torch.set_num_threads(1)
    original, count = RunGuard.after_step, [0]

    def after_step(self, iteration):  # only rank 1 gets the SIGTERM, after its 2nd step
        count[0] += 1
        if rank == 1 and count[0] == 2:
            self.signal_name = "SIGTERM"
        return original(self, iteration)

    RunGuard.after_step = after_step
    context = init_from_env("cpu")
    images = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    try:
        train_gan(images, CONFIG, root / f"rank{rank}", context=context)
        results[rank] = "finished"
    except RunInterrupted as stopped:
        results[rank] = (str(stopped), stopped.checkpoint, count[0])
    finally:
        context.shutdown()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_one_rank_signalled_all_stop_together_and_rank_zero_writes(tmp_path):
    results = torch.multiprocessing.Manager().dict()
    torch.multiprocessing.spawn(_worker, args=(2, free_port(), tmp_path, results), nprocs=2)
    (message0, checkpoint0, steps0), (message1, _, steps1) = results[0], results[1]
    assert steps0 == steps1 == 2  # the same step on both ranks
    assert "stopped by SIGTERM after iteration 2" in message1
    assert "stopped by a signal to another process after iteration 2" in message0
    assert checkpoint0 == tmp_path / "rank0" / "last.pt"
    assert load_checkpoint(checkpoint0)["iteration"] == 2
    assert not (tmp_path / "rank1").exists()  # rank 1 wrote nothing, not even run.json
