"""One training step (loss + gradients + Adam update) of the numpy CaptioningRNN against the same
computation from torch built-ins (Linear h0, Embedding, nn.RNN / nn.LSTM, Linear to V, masked
cross-entropy, Adam), in the same process, dtype and thread count.

Sizes (issue 3): N=25, T=16, D=512, W=256, H=512, V=1004. Time: median over interleaved rounds.
Peak memory of a step: numpy by tracemalloc (numpy reports its buffers to it); torch's CPU
tensors do not go through tracemalloc, so for both frameworks we also run the step in a fresh
subprocess and report the growth of peak RSS (ru_maxrss) over the model set-up: the memory the
step itself adds (activations, gradients, optimiser state), allocator caching included.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_numpy_captioning.py [--quick] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vislab.captioning.numpy_rnn import CaptioningRNN
from vislab.numpy_nn import adam
from vislab.numpy_nn.blas_threads import blas_threads

N, T, D, W, H, V = 25, 16, 512, 256, 512, 1004
THREADS = 2


def batch(dtype, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((N, D)).astype(dtype)
    captions = rng.integers(4, V, size=(N, T + 1))
    captions[:, 0] = 1
    lengths = rng.integers(8, T + 1, size=N)
    for row, length in zip(captions, lengths, strict=True):
        row[length:] = 0  # <NULL> padding, masked in the loss
    return features, captions


def numpy_step_fn(cell, dtype):
    word_to_idx = {"<NULL>": 0, "<START>": 1, "<END>": 2, **{f"w{i}": i for i in range(3, V)}}
    model = CaptioningRNN(word_to_idx, D, W, H, cell, dtype, rng=np.random.default_rng(0))
    configs = {name: {"learning_rate": 1e-3} for name in model.params}
    features, captions = batch(dtype)

    def step():
        loss, grads = model.loss(features, captions)
        for name, value in model.params.items():
            model.params[name], configs[name] = adam(value, grads[name], configs[name])
        return loss

    return step


class TorchCaptioner(torch.nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.cell = cell
        self.proj = torch.nn.Linear(D, H)
        self.embed = torch.nn.Embedding(V, W)
        self.rnn = (torch.nn.RNN if cell == "rnn" else torch.nn.LSTM)(W, H, batch_first=True)
        self.vocab = torch.nn.Linear(H, V)

    def loss(self, features, captions):
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        h0 = self.proj(features)[None]  # (1, N, H)
        state = h0 if self.cell == "rnn" else (h0, torch.zeros_like(h0))
        hidden, _ = self.rnn(self.embed(captions_in), state)  # (N, T, H)
        scores = self.vocab(hidden)  # (N, T, V)
        losses = F.cross_entropy(scores.reshape(-1, V), captions_out.reshape(-1), reduction="none")
        return (losses * (captions_out != 0).reshape(-1)).sum() / captions.shape[0]


def torch_step_fn(cell, dtype):
    torch.manual_seed(0)
    model = TorchCaptioner(cell).to(torch.float32 if dtype == np.float32 else torch.float64)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    features, captions = (torch.from_numpy(a) for a in batch(dtype))

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = model.loss(features, captions)
        loss.backward()
        optimizer.step()
        return loss.detach().item()

    return step


def time_steps(steps: dict, rounds: int, per_round: int) -> dict[str, float]:
    """Median seconds per step of each function, rounds interleaved to share the noise."""
    for step in steps.values():
        for _ in range(3):
            step()
    samples = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(per_round):
                step()
            samples[name].append((time.perf_counter() - start) / per_round)
    return {name: statistics.median(values) for name, values in samples.items()}


def tracemalloc_peak(step) -> float:
    step()
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def rss_growth_subprocess(framework: str, cell: str, dtype: str, threads: int) -> float:
    """MiB of peak RSS that 3 steps add over the set-up, measured in a fresh process."""
    args = [sys.executable, __file__, "--threads", str(threads), "--rss", framework, cell, dtype]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["mib"]


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="utf-8") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith(field + ":"))


def _rss_child(framework: str, cell: str, dtype_name: str, threads: int) -> None:
    """Reset the kernel's peak-RSS mark (Linux: clear_refs 5) after set-up, run 3 steps."""
    torch.set_num_threads(threads)
    dtype = np.dtype(dtype_name).type
    step = (numpy_step_fn if framework == "numpy" else torch_step_fn)(cell, dtype)
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kib("VmRSS")
    with blas_threads(threads):
        for _ in range(3):
            step()
    print(json.dumps({"mib": (_status_kib("VmHWM") - before) / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--threads", type=int, default=THREADS, help="BLAS and torch threads")
    parser.add_argument("--rss", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss:
        _rss_child(*args.rss, args.threads)
        return
    threads = args.threads
    torch.set_num_threads(threads)
    rounds, per_round = (3, 3) if args.quick else (7, 5)
    rows = []
    with blas_threads(threads):
        for dtype in (np.float32, np.float64):
            for cell in ("rnn", "lstm"):
                steps = {"numpy": numpy_step_fn(cell, dtype), "torch": torch_step_fn(cell, dtype)}
                times = time_steps(steps, rounds, per_round)
                numpy_peak = tracemalloc_peak(steps["numpy"])
                rss = {
                    f: rss_growth_subprocess(f, cell, np.dtype(dtype).name, threads) for f in steps
                }
                rows.append(
                    f"| {cell} | {np.dtype(dtype).name} | {times['numpy'] * 1e3:.1f} | "
                    f"{times['torch'] * 1e3:.1f} | {times['numpy'] / times['torch']:.2f}x | "
                    f"{numpy_peak:.1f} | {rss['numpy']:.1f} | {rss['torch']:.1f} |"
                )
                print(rows[-1], flush=True)
    header = (
        f"One training step (loss + grads + Adam), N={N} T={T} D={D} W={W} H={H} V={V}, "
        f"{threads} threads (numpy's OpenBLAS and torch), median of {rounds} interleaved "
        f"rounds of {per_round} steps.\n\n"
        "| cell | dtype | numpy ms | torch ms | numpy/torch | numpy tracemalloc peak MiB "
        "| numpy step peak-RSS MiB | torch step peak-RSS MiB |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    sys.path.insert(0, str(Path(__file__).parent))
    from results import report

    report("numpy captioning vs torch built-ins", header + "\n".join(rows))


if __name__ == "__main__":
    main()
