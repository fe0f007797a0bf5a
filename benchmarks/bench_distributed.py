"""Data-parallel (DDP, gloo) overhead: K=1 against K=2 processes on this machine.

For the Transformer captioner (global batch 50, T=16, wordvec 256, 2 heads, 2 layers, V=1004,
D=512) and the course's FC GAN (global batch 128, noise 96), each run in processes started
with torch.multiprocessing.spawn on 127.0.0.1, the same cores shared among the K processes:

- throughput: captions (or images) per second of training at the same global batch;
- exposed all-reduce: (step with gradient sync - step under `no_sync()`) / step with sync;
- raw all-reduce: one all-reduce of a buffer as large as all gradients, as a fraction of the
  synchronised step.

Target: all-reduce under 20% of the Transformer's step time. On 2 cores K=2 is not faster;
the point is that the overhead is measured and bounded.

Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_distributed.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import time

import torch

from results import report

CORES = 2
TRANSFORMER_BATCH, GAN_BATCH, NOISE = 50, 128, 96


def _transformer_step(context):
    from vislab.captioning.transformer import CaptioningTransformer
    from vislab.captioning.transformer_solver import transformer_temporal_softmax_loss

    words = {f"w{i}": i for i in range(1004)}
    words["<NULL>"] = 0
    torch.manual_seed(0)
    model = CaptioningTransformer(words, 512, 256, num_heads=2, num_layers=2)
    wrapped = context.wrap(model)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    local = context.local_batch_size(TRANSFORMER_BATCH)
    features, captions = torch.randn(local, 512), torch.randint(1, 1004, (local, 17))

    def step():
        scores = wrapped(features, captions[:, :-1])
        loss = transformer_temporal_softmax_loss(scores, captions[:, 1:], captions[:, 1:] != 0)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step, [wrapped], model, TRANSFORMER_BATCH


def _gan_step(context):
    from vislab.gan.losses import discriminator_loss, generator_loss
    from vislab.gan.registry import build_models
    from vislab.gan.training import gan_step, get_optimizer
    from vislab.torch_nn.distributed import unwrap

    D, G = build_models("fc", NOISE, seed=0)
    D, G = context.wrap(D), context.wrap(G)
    D_solver, G_solver = get_optimizer(unwrap(D)), get_optimizer(unwrap(G))
    local = context.local_batch_size(GAN_BATCH)
    real = torch.rand(local, 1, 28, 28) * 2 - 1

    def step():
        d_noise, g_noise = torch.rand(local, NOISE) * 2 - 1, torch.rand(local, NOISE) * 2 - 1
        gan_step(
            D,
            G,
            D_solver,
            G_solver,
            discriminator_loss,
            generator_loss,
            real,
            d_noise,
            g_noise,
            D_for_generator=unwrap(D),
        )

    both = torch.nn.ModuleList([unwrap(D), unwrap(G)])
    return step, [D, G], both, GAN_BATCH


def _time(step, steps: int) -> float:
    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def _worker(rank, world_size, port, task, steps, results):
    os.environ.update(
        WORLD_SIZE=str(world_size),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    torch.set_num_threads(max(1, CORES // world_size))
    from vislab.torch_nn.distributed import init_from_env

    context = init_from_env("cpu")
    step, wrapped, plain, global_batch = (
        _transformer_step if task == "transformer" else _gan_step
    )(context)
    synced = _time(step, steps)
    row = {"step": synced, "items_per_s": global_batch / synced}
    if context.is_distributed:
        with contextlib.ExitStack() as stack:
            for module in wrapped:
                stack.enter_context(module.no_sync())
            unsynced = _time(step, steps)
        buffer = torch.zeros(sum(p.numel() for p in plain.parameters()))
        times = []
        for _ in range(10):
            start = time.perf_counter()
            torch.distributed.all_reduce(buffer)
            times.append(time.perf_counter() - start)
        row["exposed"] = max(0.0, (synced - unsynced) / synced)
        row["raw"] = statistics.median(times) / synced
        row["params"] = buffer.numel()
    context.barrier()
    if context.is_main:
        results[(task, world_size)] = row
    context.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps only (smoke run)")
    args = parser.parse_args()
    steps = {"transformer": 5 if args.quick else 30, "gan": 10 if args.quick else 100}
    results = torch.multiprocessing.Manager().dict()
    for task in ("transformer", "gan"):
        for world_size in (1, 2):
            torch.multiprocessing.spawn(
                _worker,
                args=(world_size, free_port(), task, steps[task], results),
                nprocs=world_size,
            )
    lines = [
        "| model | K | step | throughput | exposed all-reduce | raw all-reduce |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for (task, world_size), row in sorted(results.items()):
        unit = "captions/s" if task == "transformer" else "images/s"
        extra = (
            f"{row['exposed']:.1%} | {row['raw']:.1%} ({row['params'] / 1e6:.2f} M floats)"
            if world_size > 1
            else "- | -"
        )
        lines.append(
            f"| {task} | {world_size} | {row['step'] * 1e3:.1f} ms | "
            f"{row['items_per_s']:.0f} {unit} | {extra} |"
        )
    lines += [
        "",
        f"{CORES} cores shared by the K processes ({CORES}//K threads each); "
        f"gloo on 127.0.0.1{'; quick run' if args.quick else ''}. Target: all-reduce "
        "under 20% of the Transformer's step.",
    ]
    report("Distributed data parallel (gloo): K=1 vs K=2", "\n".join(lines))


if __name__ == "__main__":
    main()
