"""Load test of `vislab serve` on loopback: latency of the quick answers and behaviour when full.

Starts the real server (`python -m vislab serve`, its default 2 workers and queue of 8) as a
child process on 127.0.0.1 and a free port, uploads one 224 x 224 photo, then:

0. overhead: one client, requests interleaved with the same work called in this process
   (`explain_routes.vanilla_saliency` on a Lab here, one torch thread like each server
   worker): the ratio of the medians is what HTTP, JSON and the pool add.
1. target: 4 concurrent clients asking for top-5 + vanilla saliency of that image
   (`POST /api/saliency`, EfficientNet-Lite0) for --target-seconds; p50/p95 latency.
   Target on 2 cores: p95 under 1 s.
2. load: 50 concurrent clients for --load-seconds, each request predict or saliency at
   random; a 503 (the deliberate "busy" answer) is retried after its Retry-After (with
   jitter), as a well-behaved client would. Counts every status; any 5xx other than 503, or a
   request that fails outright, is a failure. A probe asks GET /api/status twice a second, the
   yardstick for how fast the 503s come. The server's resident memory (VmRSS) is sampled
   every second: growth from the end of the warm-up to the end of the run must stay under
   --memory-bound-mib.

Bounded: both phases stop by themselves (at most 120 s each) and the server is stopped at the
end. Results (with the load average, the machine being shared) go to RESULTS.md.

Run: .venv/bin/python benchmarks/bench_serve.py [--target-seconds 30] [--load-seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import torch

from results import report
from vislab.datasets.sample_photos import load_sample_photo
from vislab.serve import Lab, explain_routes

MAX_PHASE_SECONDS = 120
RETRY_JITTER = (0.5, 1.5)  # a client waits Retry-After times this after a 503


def start_server(runs: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """`vislab serve` in a child process writing to `log`; returns it and its URL."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "w", encoding="utf-8") as out:  # a file, not a pipe nobody drains
        process = subprocess.Popen(
            [sys.executable, "-m", "vislab", "serve", "--runs", str(runs), "--port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + MAX_PHASE_SECONDS
    while "http://" not in log.read_text() and time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server did not start: {log.read_text()}")
        time.sleep(0.2)
    url = log.read_text().split("http://", 1)[1].split()[0]
    return process, f"http://{url.rstrip('/')}"


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
        line = next(x for x in handle if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def photo_224() -> bytes:
    photo = load_sample_photo("chelsea")
    side = min(photo.size)
    left, top = (photo.width - side) // 2, (photo.height - side) // 2
    photo = photo.crop((left, top, left + side, top + side)).resize((224, 224))
    buffer = io.BytesIO()
    photo.save(buffer, "PNG")
    return buffer.getvalue()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_clients(base: str, body: dict, clients: int, seconds: float, mix: bool) -> dict:
    """`clients` loops posting until `seconds` pass; latencies per route and status counts."""
    seconds = min(seconds, MAX_PHASE_SECONDS)
    latencies: dict[str, list[float]] = {"predict": [], "saliency": []}
    busy_latencies: list[float] = []
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60.0, limits=limits) as http:

        async def client(seed: int) -> None:
            rng = random.Random(seed)
            while time.monotonic() < deadline:
                route = rng.choice(("predict", "saliency")) if mix else "saliency"
                start = time.perf_counter()
                try:
                    response = await http.post(f"/api/{route}", json=body)
                    code = str(response.status_code)
                except httpx.HTTPError as error:
                    code = f"failed ({type(error).__name__})"
                elapsed = time.perf_counter() - start
                statuses[code] = statuses.get(code, 0) + 1
                if code == "200":
                    latencies[route].append(elapsed)
                elif code == "503":
                    busy_latencies.append(elapsed)
                    pause = float(response.headers.get("retry-after", 1))
                    await asyncio.sleep(pause * rng.uniform(*RETRY_JITTER))

        await asyncio.gather(*(client(seed) for seed in range(clients)))
    return {"latencies": latencies, "busy": busy_latencies, "statuses": statuses}


async def sample_memory(pid: int, stop: asyncio.Event, samples: list[float]) -> None:
    while not stop.is_set():
        samples.append(rss_mib(pid))
        await asyncio.sleep(1.0)


async def probe(base: str, stop: asyncio.Event, latencies: list[float]) -> None:
    """GET /api/status twice a second: the cheapest route, as a yardstick for the 503s."""
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as http:
        while not stop.is_set():
            start = time.perf_counter()
            (await http.get("/api/status")).raise_for_status()
            latencies.append(time.perf_counter() - start)
            await asyncio.sleep(0.5)


async def load_phase(base: str, body: dict, pid: int, clients: int, seconds: float) -> tuple:
    stop, samples, status = asyncio.Event(), [], []
    watchers = [
        asyncio.create_task(sample_memory(pid, stop, samples)),
        asyncio.create_task(probe(base, stop, status)),
    ]
    result = await run_clients(base, body, clients, seconds, mix=True)
    stop.set()
    await asyncio.gather(*watchers)
    return result, samples, status


def row(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {len(values)} | {1000 * percentile(values, 0.5):.0f} | "
        f"{1000 * percentile(values, 0.95):.0f} |"
    )


def overhead_phase(base: str, body: dict, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds of (the work in this process, the same work over HTTP), interleaved."""
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="bench-serve-lab-") as temp:
        lab = Lab(temp, temp)
        image = lab.images.add(photo_224())
        local, remote = [], []
        with httpx.Client(base_url=base, timeout=60.0) as http:
            explain_routes.vanilla_saliency(lab, body["model"], image)  # warm-up
            for _ in range(rounds):
                start = time.perf_counter()
                explain_routes.vanilla_saliency(lab, body["model"], image)
                local.append(time.perf_counter() - start)
                start = time.perf_counter()
                http.post("/api/saliency", json=body).raise_for_status()
                remote.append(time.perf_counter() - start)
        lab.close()
    return local, remote


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-seconds", type=float, default=30.0)
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=15, help="overhead phase rounds")
    parser.add_argument("--memory-bound-mib", type=float, default=150.0)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as runs:
        server, base = start_server(Path(runs), Path(runs) / "server.log")
        try:
            with httpx.Client(base_url=base, timeout=60.0) as http:
                upload = http.post("/api/images", files={"file": ("cat.png", photo_224())})
                body = {"model": "efficientnet_lite0", "image": upload.json()["image"]}
                for _ in range(3):  # warm-up: model load, first passes
                    http.post("/api/saliency", json=body).raise_for_status()
            local, remote = overhead_phase(base, body, args.rounds)
            target = asyncio.run(run_clients(base, body, 4, args.target_seconds, mix=False))
            load_middle = os.getloadavg()
            warm_rss = rss_mib(server.pid)
            load, memory, status = asyncio.run(
                load_phase(base, body, server.pid, args.clients, args.load_seconds)
            )
            end_rss = rss_mib(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
            log = (Path(runs) / "server.log").read_text().splitlines()
    print("server log, last lines:", *log[-5:], sep="\n  ")
    load_after = os.getloadavg()
    target_p95 = percentile(target["latencies"]["saliency"], 0.95)
    failures = {k: v for k, v in load["statuses"].items() if k not in ("200", "503")}
    growth = end_rss - warm_rss
    ratio = statistics.median(remote) / statistics.median(local)
    verdicts = [
        f"overhead (1 client): {1000 * statistics.median(remote):.0f} ms over HTTP vs "
        f"{1000 * statistics.median(local):.0f} ms for the same work in one process "
        f"({ratio:.2f}x)",
        f"target (4 clients, top-5 + vanilla saliency, p95 < 1 s): "
        f"{'met' if target_p95 < 1.0 else 'NOT met'} (p95 {1000 * target_p95:.0f} ms)",
        f"load ({args.clients} clients): "
        f"{'no failures' if not failures else f'FAILURES {failures}'}; "
        f"{load['statuses'].get('503', 0)} deliberate 503s "
        f"(p95 {1000 * percentile(load['busy'], 0.95):.0f} ms to answer, against "
        f"{1000 * percentile(status, 0.95):.0f} ms for GET /api/status meanwhile)",
        f"memory: {warm_rss:.0f} MiB after warm-up, peak {max(memory):.0f}, end {end_rss:.0f} "
        f"(growth {growth:+.0f} MiB, bound {args.memory_bound_mib:.0f}: "
        f"{'met' if growth < args.memory_bound_mib else 'NOT met'})",
    ]
    body_text = "\n".join(
        [
            f"`vislab serve` (2 workers, queue 8) on loopback, EfficientNet-Lite0, one 224 x 224 "
            f"upload; clients in one asyncio process beside it. Load average (1/5/15 min) "
            f"before {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f}, between "
            f"the phases {load_middle[0]:.1f}, after {load_after[0]:.1f}.",
            "",
            "| phase / route | answered 200 | p50 ms | p95 ms |",
            "|---|---|---|---|",
            row("1 client, the same work in this process", local),
            row("1 client, over HTTP: saliency", remote),
            row(
                f"4 clients {args.target_seconds:.0f} s: saliency", target["latencies"]["saliency"]
            ),
            row(
                f"{args.clients} clients {args.load_seconds:.0f} s: predict",
                load["latencies"]["predict"],
            ),
            row(
                f"{args.clients} clients {args.load_seconds:.0f} s: saliency",
                load["latencies"]["saliency"],
            ),
            "",
            f"Statuses under load: {dict(sorted(load['statuses'].items()))}.",
            "",
            *[f"- {line}" for line in verdicts],
        ]
    )
    report("vislab serve under load", body_text)
    if failures or growth >= args.memory_bound_mib:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
