"""The DDP helper: a no-op without torchrun, exact sharding, and a real 2-process gloo run."""

from __future__ import annotations

import socket

import pytest
import torch
from torch import nn

from vislab.errors import InvalidInputError
from vislab.torch_nn.distributed import (
    DistributedContext,
    GlobalBatchNorm,
    all_reduce_mean,
    init_from_env,
    sync_batchnorm,
    unwrap,
)

TORCHRUN_VARS = ["WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"]


def test_without_torchrun_nothing_is_initialised(monkeypatch):
    for name in TORCHRUN_VARS:
        monkeypatch.delenv(name, raising=False)
    context = init_from_env("cpu")
    assert (context.rank, context.world_size, context.is_main) == (0, 1, True)
    assert not torch.distributed.is_initialized()
    model = nn.Linear(3, 2)
    assert context.wrap(model) is model and unwrap(model) is model
    context.barrier()
    context.shutdown()
    x = torch.arange(4.0)
    assert torch.equal(all_reduce_mean(x), x)


def test_world_size_one_is_single_process(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert not init_from_env("cpu").is_distributed
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(InvalidInputError, match="WORLD_SIZE"):
        init_from_env("cpu")


@pytest.mark.parametrize("num_items, world_size", [(10, 1), (10, 2), (11, 3), (128, 4)])
def test_shards_are_disjoint_and_cover_the_epoch(num_items, world_size):
    shards = [
        DistributedContext(rank=r, world_size=world_size).shard(num_items, epoch_seed=7)
        for r in range(world_size)
    ]
    together = torch.cat(shards).sort().values
    assert torch.equal(together, torch.arange(num_items))
    assert max(len(s) for s in shards) - min(len(s) for s in shards) <= 1


def test_round_robin_shards_rebuild_the_global_batch():
    single = DistributedContext().shard(64, epoch_seed=3)
    ranks = [DistributedContext(rank=r, world_size=4).shard(64, epoch_seed=3) for r in range(4)]
    global_batch, local_batch = 16, 4
    for i in range(64 // global_batch):
        pieces = torch.cat([s[i * local_batch : (i + 1) * local_batch] for s in ranks])
        expected = single[i * global_batch : (i + 1) * global_batch]
        assert torch.equal(pieces.sort().values, expected.sort().values)


def test_local_batch_size_must_divide():
    assert DistributedContext(world_size=4).local_batch_size(128) == 32
    with pytest.raises(InvalidInputError, match="not divisible"):
        DistributedContext(world_size=3).local_batch_size(128)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _batchnorm_inputs():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(8, 3, 2, 2, generator=generator) * 3 + 1
    return x, torch.randn(8, 3, 2, 2, generator=generator)


def _batchnorm_share(context, rank, world_size):
    """This rank's half of a BatchNorm2d forward/backward under GlobalBatchNorm."""
    model = sync_batchnorm(nn.Sequential(nn.BatchNorm2d(3)), context)
    assert isinstance(model[0], GlobalBatchNorm)
    x, weights = _batchnorm_inputs()
    x = x[rank::world_size].clone().requires_grad_(True)
    y = model(x)
    (y * weights[rank::world_size]).sum().backward()
    bn = model[0]
    return y.detach(), x.grad, bn.weight.grad, bn.running_mean.clone(), bn.running_var.clone()


def _worker(rank: int, world_size: int, port: int, results) -> None:
    import os

    os.environ.update(
        WORLD_SIZE=str(world_size),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    torch.set_num_threads(1)
    context = init_from_env("cpu")
    try:
        mean = context.all_reduce_mean(torch.tensor([float(rank), 10.0 * rank]))
        torch.manual_seed(rank)  # different initial weights: DDP must broadcast rank 0's
        model = context.wrap(nn.Linear(3, 1))
        x = torch.full((2, 3), float(rank + 1))
        model(x).sum().backward()
        context.barrier()
        results[rank] = (
            mean,
            [p.detach().clone() for p in model.parameters()],
            [p.grad.clone() for p in model.parameters()],
            _batchnorm_share(context, rank, world_size),
        )
    finally:
        context.shutdown()


def test_two_gloo_processes_average_and_agree():
    manager = torch.multiprocessing.Manager()
    results = manager.dict()
    torch.multiprocessing.spawn(_worker, args=(2, free_port(), results), nprocs=2)
    (mean0, params0, grads0, bn0), (mean1, params1, grads1, bn1) = results[0], results[1]
    assert torch.allclose(mean0, torch.tensor([0.5, 5.0])) and torch.equal(mean0, mean1)
    for a, b in zip(params0 + grads0, params1 + grads1, strict=True):
        assert torch.equal(a, b)
    # d(sum of outputs)/dW per rank = column sums of x: 2*(r+1); averaged over ranks: 3.
    assert torch.allclose(grads0[0], torch.full((1, 3), 3.0), atol=1e-6)

    # GlobalBatchNorm on two halves == one BatchNorm on the whole batch.
    x, weights = _batchnorm_inputs()
    x.requires_grad_(True)
    reference = nn.BatchNorm2d(3)
    y = reference(x)
    (y * weights).sum().backward()
    assert torch.allclose(y[0::2], bn0[0], atol=1e-5) and torch.allclose(y[1::2], bn1[0], atol=1e-5)
    assert torch.allclose(x.grad[0::2], bn0[1], atol=1e-5)
    assert torch.allclose(x.grad[1::2], bn1[1], atol=1e-5)
    assert torch.allclose(reference.weight.grad, bn0[2] + bn1[2], atol=1e-4)
    assert torch.allclose(reference.running_mean, bn0[3], atol=1e-6)
    assert torch.allclose(reference.running_var, bn1[4], atol=1e-5)


def test_global_batchnorm_alone_is_batchnorm():
    reference = nn.BatchNorm1d(5)
    ours = GlobalBatchNorm(nn.BatchNorm1d(5))
    x = torch.randn(6, 5) * 2 + 3
    assert torch.allclose(ours(x), reference(x), atol=1e-5)
    assert torch.allclose(ours.running_var, reference.running_var, atol=1e-6)
    ours.eval(), reference.eval()
    assert torch.allclose(ours(x), reference(x), atol=1e-5)
    assert set(ours.state_dict()) == set(reference.state_dict())
    assert sync_batchnorm(reference, DistributedContext()) is reference
