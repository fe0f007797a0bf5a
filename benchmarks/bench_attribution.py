"""vislab's SmoothGrad and Integrated Gradients against captum called directly, on Lite0.

The first run (2026-12-03 13:58) measured the former hand-written loops against captum; they
were neither faster nor leaner, so both now run on captum and this measures what vislab's
wrappers add (SmoothGrad: one NoiseTunnel call per image, for its per-image sigma).

Same images, same number of samples / steps, same chunk size (16 images through the model at
once). Each variant runs in its own fresh process, so its peak resident memory (ru_maxrss) is
its own; the memory baseline is that process with the model loaded and one forward+backward of
the 4 images. Time is the median of the repeats inside each process; the speed ratio is
captum / vislab, measured back to back.

Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_attribution.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch

VARIANTS = ("baseline", "vislab-smoothgrad", "captum-smoothgrad", "vislab-ig", "captum-ig")
NUM_IMAGES, SAMPLES, CHUNK = 4, 16, 16


def run_variant(name: str, repeats: int) -> dict:
    """Time one variant in this process; report its median seconds and peak RSS (MiB)."""
    from captum.attr import IntegratedGradients, NoiseTunnel, Saliency
    from PIL import Image

    from vislab.backbones import load_backbone
    from vislab.datasets.imagenet import load_imagenet_val
    from vislab.explain import integrated_gradients, smoothgrad_saliency_maps

    torch.set_num_threads(1)
    model = load_backbone("efficientnet_lite0")
    images, labels, _ = load_imagenet_val(num=NUM_IMAGES)
    X = torch.cat([model.preprocess(Image.fromarray(x)) for x in images])
    y = torch.from_numpy(labels)
    black = model.normalise(torch.zeros_like(X))

    def baseline() -> None:
        model(X.clone().requires_grad_(True)).gather(1, y[:, None]).sum().backward()

    calls = {
        "baseline": baseline,
        "vislab-smoothgrad": lambda: smoothgrad_saliency_maps(
            X, y, model, num_samples=SAMPLES, batch_size=CHUNK
        ),
        "captum-smoothgrad": lambda: NoiseTunnel(Saliency(model)).attribute(
            X.clone().requires_grad_(True),
            nt_type="smoothgrad",
            nt_samples=SAMPLES,
            nt_samples_batch_size=CHUNK // NUM_IMAGES,
            stdevs=0.15 * float(X.max() - X.min()),
            target=y,
        ),
        "vislab-ig": lambda: integrated_gradients(
            X, y, model, baseline=black, num_steps=SAMPLES, batch_size=CHUNK
        ),
        "captum-ig": lambda: IntegratedGradients(model).attribute(
            X.clone().requires_grad_(True),
            baselines=black,
            target=y,
            n_steps=SAMPLES,
            method="riemann_middle",
            internal_batch_size=CHUNK,
        ),
    }
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        calls[name]()
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": statistics.median(times), "peak_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_variant(args.one, args.repeats)))
        return
    from results import report

    started = time.perf_counter()
    measured = {}
    for name in VARIANTS:
        output = subprocess.run(
            [sys.executable, __file__, "--one", name, "--repeats", str(args.repeats)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        measured[name] = json.loads(output.strip().splitlines()[-1])
    base = measured["baseline"]["peak_mib"]
    rows = ["| variant | median s | peak RSS above baseline (MiB) |", "| --- | --- | --- |"]
    for name in VARIANTS[1:]:
        m = measured[name]
        rows.append(f"| {name} | {m['seconds']:.2f} | {m['peak_mib'] - base:.0f} |")
    ratio_sg = measured["captum-smoothgrad"]["seconds"] / measured["vislab-smoothgrad"]["seconds"]
    ratio_ig = measured["captum-ig"]["seconds"] / measured["vislab-ig"]["seconds"]
    body = (
        f"EfficientNet-Lite0, {NUM_IMAGES} images at 224x224, {SAMPLES} samples/steps, chunks "
        f"of {CHUNK}, one torch thread, median of {args.repeats}; baseline process "
        f"{base:.0f} MiB.\n\n" + "\n".join(rows) + "\n\n"
        f"captum / vislab time: SmoothGrad {ratio_sg:.2f}x, IG {ratio_ig:.2f}x. "
        f"Cost of this benchmark: {time.perf_counter() - started:.0f} s."
    )
    report("Attribution: vislab's SmoothGrad/IG vs captum called directly", body)


if __name__ == "__main__":
    main()
