"""Data-parallel training with PyTorch's own engine (DDP), driven by torchrun's environment.

`init_from_env(device)` reads the variables torchrun sets (`WORLD_SIZE`, `RANK`, `LOCAL_RANK`,
`MASTER_ADDR`, `MASTER_PORT`). Without them, or with `WORLD_SIZE=1`, it initialises nothing and
returns a single-process context whose `wrap` returns the model unchanged, so a plain
`python -m vislab ...` run never touches `torch.distributed`.

The global batch is kept (`batch_size // K` items per rank, dealt by `shard`) and BatchNorm
sees the global batch (`sync_batchnorm`), so K processes follow one process's learning curve.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from vislab.errors import InvalidInputError

logger = logging.getLogger(__name__)


@dataclass
class DistributedContext:
    """Where this process stands in a (possibly one-process) data-parallel run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """True on the one process that writes files and prints (rank 0)."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    def local_batch_size(self, batch_size: int) -> int:
        """This rank's share of a global batch; the batch must divide evenly."""
        if batch_size % self.world_size:
            raise InvalidInputError(
                f"batch size {batch_size} is not divisible by the {self.world_size} processes; "
                "choose a batch size that is a multiple of --nproc-per-node x nodes"
            )
        return batch_size // self.world_size

    def shard(self, num_items: int, epoch_seed: int) -> torch.Tensor:
        """This rank's indices for one epoch: (ceil or floor of num_items / K,) int64.

        Every rank draws the same permutation from `epoch_seed` and keeps every K-th entry
        starting at its rank, so the shards are disjoint and together cover the epoch once.
        """
        # Round-robin over one permutation: the union of the ranks' i-th batches is exactly the
        # single-process i-th batch, so with mean losses and DDP's gradient averaging a K-process
        # run matches one process up to the order of floating-point sums.
        generator = torch.Generator().manual_seed(int(epoch_seed))
        order = torch.randperm(num_items, generator=generator)
        return order[self.rank :: self.world_size]

    def wrap(self, model: nn.Module, **ddp_options) -> nn.Module:
        """`DistributedDataParallel(model)` when distributed, else the model itself."""
        if not self.is_distributed:
            return model
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids, **ddp_options)

    def barrier(self) -> None:
        """Wait for all ranks (no-op in a single process)."""
        if self.is_distributed:
            torch.distributed.barrier()

    def all_reduce_mean(self, tensor: torch.Tensor) -> torch.Tensor:
        """Mean of `tensor` over the ranks (a copy; the input is untouched)."""
        return all_reduce_mean(tensor)

    def shutdown(self) -> None:
        """Tear down the process group if this context created one."""
        if self.is_distributed and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside a DDP wrapper (or the module itself)."""
    return getattr(model, "module", model)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as error:
        raise InvalidInputError(
            f"environment variable {name}={value!r} is not an integer"
        ) from error


def init_from_env(device: str | torch.device = "cpu") -> DistributedContext:
    """Join the process group torchrun describes, or return a single-process context.

    gloo on CPU, nccl on CUDA; under CUDA each process uses GPU `LOCAL_RANK`.
    """
    device = torch.device(device)
    world_size = _env_int("WORLD_SIZE", 1)
    if world_size <= 1:
        return DistributedContext(device=device)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise InvalidInputError("--device cuda was asked for but CUDA is not available")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        backend = "gloo"
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend=backend, rank=rank, world_size=world_size)
    logger.info("rank %d of %d on %s (%s)", rank, world_size, device, backend)
    return DistributedContext(
        rank=rank, world_size=world_size, local_rank=local_rank, device=device
    )


def all_reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
    """Mean of `tensor` over all ranks; a detached copy of it when not distributed."""
    result = tensor.detach().clone()
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.all_reduce(result, op=torch.distributed.ReduceOp.SUM)
        result /= torch.distributed.get_world_size()
    return result


class _AllReduceSum(torch.autograd.Function):
    """Sum over ranks whose backward sums the incoming gradients over ranks too."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        torch.distributed.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        total = grad.clone()
        torch.distributed.all_reduce(total)
        return total


class GlobalBatchNorm(nn.Module):
    """BatchNorm over the global batch of all ranks, for CPU/gloo; same state dict as BatchNorm.

    Training: mean and biased variance per channel from all-reduced (sum x, sum x^2, count),
    so outputs and gradients equal one process's BatchNorm on the concatenated batch (up to
    float order); running_var is updated with the unbiased variance, as torch does. Eval:
    the running statistics, no communication. x: (N, C) or (N, C, H, W).
    """

    def __init__(self, source: nn.modules.batchnorm._BatchNorm):
        super().__init__()
        self.num_features, self.eps, self.momentum = (
            source.num_features,
            source.eps,
            source.momentum,
        )
        self.weight, self.bias = source.weight, source.bias
        self.register_buffer("running_mean", source.running_mean)
        self.register_buffer("running_var", source.running_var)
        self.register_buffer("num_batches_tracked", source.num_batches_tracked)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                False, 0.0, self.eps)  # fmt: skip
        C, dims = self.num_features, [0, *range(2, x.dim())]
        count = x.new_tensor([x.numel() / C])
        totals = torch.cat([x.sum(dims), (x * x).sum(dims), count])  # (2C + 1,)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            totals = _AllReduceSum.apply(totals)  # gradients flow back to every rank
        n = totals[-1]
        mean = totals[:C] / n
        var = totals[C : 2 * C] / n - mean * mean
        shape = [1, C] + [1] * (x.dim() - 2)  # (1, C, 1, 1): broadcast over N (and H, W)
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.weight is not None:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        with torch.no_grad():
            self.num_batches_tracked += 1
            m = self.momentum if self.momentum is not None else 1 / float(self.num_batches_tracked)
            self.running_mean.mul_(1 - m).add_(m * mean)
            self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))
        return y


def sync_batchnorm(model: nn.Module, context: DistributedContext) -> nn.Module:
    """Give every BatchNorm layer global-batch statistics when distributed (else unchanged).

    CUDA: torch's SyncBatchNorm. CPU: `GlobalBatchNorm` (torch's runs on GPUs only).
    """
    # BatchNorm is the one layer whose output depends on the rest of the batch: with per-rank
    # statistics, K processes would train a different model from one process.
    if not context.is_distributed:
        return model
    if context.device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    for name, child in model.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(model, name, GlobalBatchNorm(child))
        else:
            sync_batchnorm(child, context)
    return model
