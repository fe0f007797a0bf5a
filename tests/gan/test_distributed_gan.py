"""`train_gan` under DDP: two gloo processes on 127.0.0.1 resume a single-process checkpoint.

One spawn checks it all: single-process checkpoints load under DDP (resume), the ranks end
with identical parameters equal to the single-process run, only rank 0 writes, and its
checkpoint loads in a single process.
"""

from __future__ import annotations

import os
import shutil
import socket

import torch

from vislab.gan import GanConfig, load_checkpoint, train_gan
from vislab.torch_nn.distributed import init_from_env

CONFIG = dict(model="fc", loss="ls", batch_size=8, noise_dim=8, show_every=2, num_train=32, seed=1)
# The DCGAN's BatchNorm must see the global batch under DDP: 2 steps from scratch.
DC_CONFIG = dict(model="dc", batch_size=8, noise_dim=8, num_train=16, epochs=1, seed=2)


def images():
    return torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def _worker(rank, world_size, port, root, results):
    os.environ.update(
        WORLD_SIZE=str(world_size), RANK=str(rank), LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
    )  # fmt: skip
    torch.set_num_threads(1)
    context = init_from_env("cpu")
    try:
        run = train_gan(images(), GanConfig(epochs=2, **CONFIG), root / f"rank{rank}",
                        resume=True, context=context)  # fmt: skip
        models = (run.generator, run.discriminator)
        dc = train_gan(images(), GanConfig(**DC_CONFIG), root / f"dc{rank}", context=context)
        results[rank] = {
            "history": run.history,
            "parameters": [p.detach().clone() for m in models for p in m.parameters()],
            "dc": {k: v.clone() for k, v in dc.generator.state_dict().items()},
            "dc_history": dc.history,
        }
    finally:
        context.shutdown()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_resume_and_match_one(tmp_path):
    train_gan(images(), GanConfig(epochs=1, **CONFIG), tmp_path / "single")
    for rank in (0, 1):  # every rank resumes from the same single-process checkpoint
        (tmp_path / f"rank{rank}").mkdir()
        for name in ("last.pt", "run.json"):
            shutil.copy(tmp_path / "single" / name, tmp_path / f"rank{rank}")
    before = (tmp_path / "rank1" / "last.pt").read_bytes()
    single = train_gan(images(), GanConfig(epochs=2, **CONFIG), tmp_path / "single", resume=True)
    single_dc = train_gan(images(), GanConfig(**DC_CONFIG), tmp_path / "single-dc")

    results = torch.multiprocessing.Manager().dict()
    torch.multiprocessing.spawn(_worker, args=(2, free_port(), tmp_path, results), nprocs=2)

    assert results[0]["history"] == results[1]["history"]  # losses are all-reduced
    for key in ("d_loss", "g_loss"):
        assert torch.allclose(
            torch.tensor(results[0]["history"][key]), torch.tensor(single.history[key]), atol=1e-5
        )
    for a, b in zip(results[0]["parameters"], results[1]["parameters"], strict=True):
        assert torch.equal(a, b)
    expected = [p for m in (single.generator, single.discriminator) for p in m.parameters()]
    for got, want in zip(results[0]["parameters"], expected, strict=True):
        assert torch.allclose(got, want, atol=1e-5)
    saved = load_checkpoint(tmp_path / "rank0" / "last.pt")  # DDP -> one process
    assert saved["epoch"] == 2
    for key, value in single.generator.state_dict().items():
        assert torch.allclose(saved["generator"][key], value, atol=1e-5), key
    assert sorted(p.name for p in (tmp_path / "rank1").rglob("*")) == ["last.pt", "run.json"]
    assert (tmp_path / "rank1" / "last.pt").read_bytes() == before
    assert (tmp_path / "rank0" / "samples" / "final.png").is_file()

    # DCGAN: the first step's losses match tightly (per-rank BatchNorm over 4 of the 8
    # images would be ~10% off); later steps drift at float level, which Adam's first steps
    # amplify on near-zero gradients: Adam (betas 0.5, 0.999) moves a parameter by lr on step 1
    # and by at most ~1.4 lr on step 2, so two runs whose near-zero gradients differ in sign
    # part by at most 2 (1 + 1.4) lr < 5e-3 after these 2 steps (2.5e-3 seen on one thread).
    assert results[0]["dc_history"] == results[1]["dc_history"]
    for key in ("d_loss", "g_loss"):
        got, want = results[0]["dc_history"][key], single_dc.history[key]
        assert abs(got[0] - want[0]) < 1e-5, key
        assert torch.allclose(torch.tensor(got), torch.tensor(want), rtol=1e-2), key
    for key, value in single_dc.generator.state_dict().items():
        assert torch.equal(results[0]["dc"][key], results[1]["dc"][key]), key
        assert torch.allclose(results[0]["dc"][key].float(), value.float(), atol=5e-3), key
