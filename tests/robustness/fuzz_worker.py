"""Fuzz every reader with hypothesis, in a process of its own under a memory limit.

    python fuzz_worker.py SEEDS_DIR WORK_DIR EXAMPLES TARGET [TARGET ...]

Each target feeds mutated bytes of a valid seed file (and, for checkpoints, valid files with
keys removed or values of the wrong type or shape) to a public reader. Only vislab's own
errors may come out; anything else (a traceback from deep inside numpy, h5py, torch or
Pillow), a MemoryError under the address-space limit or an example running past its time
limit fails the target. Prints one JSON line per target: {"target", "ok", "detail"}.
"""

from __future__ import annotations

import json
import resource
import shutil
import signal
import sys
import traceback
from pathlib import Path

MEMORY_LIMIT = 2 * 2**30  # bytes of address space
EXAMPLE_SECONDS = 20

resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

import torch  # noqa: E402 (after the memory limit, so importing counts against it too)
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from vislab.captioning.captioners import load_captioner  # noqa: E402
from vislab.captioning.sets.own_captions import read_annotations  # noqa: E402
from vislab.datasets.coco import CAPTIONS_FILE, VOCAB_FILE, features_file, load_coco_data  # noqa: E402, I001
from vislab.datasets.grid_data import TRUTH_FILE, grid_features_file  # noqa: E402
from vislab.datasets.idx import read_idx  # noqa: E402
from vislab.datasets.image_urls import image_from_url  # noqa: E402
from vislab.datasets.imagenet import load_imagenet_val  # noqa: E402
from vislab.datasets.sample_photos import load_image  # noqa: E402
from vislab.errors import VislabError  # noqa: E402
from vislab.gan.checkpoints import load_generator  # noqa: E402

torch.set_num_threads(1)


class ExampleTimeout(Exception):
    """An example ran past EXAMPLE_SECONDS."""


def _alarm(signum, frame):
    raise ExampleTimeout(f"one example ran past {EXAMPLE_SECONDS} s")


signal.signal(signal.SIGALRM, _alarm)


def expect_only_vislab_errors(read, *args) -> None:
    """Call read(*args); a VislabError is a pass, any other exception propagates."""
    signal.alarm(EXAMPLE_SECONDS)
    try:
        read(*args)
    except VislabError:
        pass
    finally:
        signal.alarm(0)


def mutated(seed: bytes):
    """Bytes near `seed`: some bytes replaced, a block inserted, the tail cut; or junk."""

    def apply(edits):
        replacements, insert_at, block, cut = edits
        data = bytearray(seed)
        for position, value in replacements:
            data[position % len(data)] = value
        data[insert_at:insert_at] = block
        return bytes(data[:cut])

    near = st.tuples(
        st.lists(st.tuples(st.integers(0, len(seed) - 1), st.integers(0, 255)), max_size=8),
        st.integers(0, len(seed)),
        st.binary(max_size=16),
        st.integers(0, len(seed) + 16),
    ).map(apply)
    return st.one_of(near, near, near, st.binary(max_size=512))


ODD_VALUES = st.sampled_from(
    [None, 0, -1, 2**62, 1.5, float("nan"), "x", b"x", [], {}, [1, "a"], {"a": 1}, True]
) | st.builds(
    lambda shape: torch.zeros(shape),
    st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple),
)


def structurally_mutated(state: dict):
    """A checkpoint dict with one nested value deleted or replaced by something odd."""
    paths = []

    def walk(value, path):
        paths.append(path)
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, key))

    walk(state, ())

    def apply(choice):
        path, delete, odd = choice
        copy = _copy(state)
        if not path:
            return odd
        parent = copy
        for key in path[:-1]:
            parent = parent[key]
        if delete:
            del parent[path[-1]]
        else:
            parent[path[-1]] = odd
        return copy

    return st.tuples(st.sampled_from(paths), st.booleans(), ODD_VALUES).map(apply)


def _copy(value):
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    return value


def fuzz(strategy, examples: int):
    def decorate(check):
        return settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=(Phase.explicit, Phase.generate),  # no shrinking: the first failure is kept
        )(given(strategy)(check))

    return decorate


def target_bytes(seed_path: Path, work: Path, read, examples: int, name: str | None = None):
    """Fuzz read(path) with mutations of the seed file's bytes, written to work/name."""
    path = work / (name or seed_path.name)

    @fuzz(mutated(seed_path.read_bytes()), examples)
    def check(data):
        path.write_bytes(data)
        expect_only_vislab_errors(read, path)

    check()


def target_coco_file(seeds: Path, work: Path, file_name: str, examples: int):
    """Fuzz load_coco_data with one file of a valid folder replaced by mutated bytes."""
    folder = work / "coco"
    shutil.copytree(seeds / "coco", folder)
    seed = (folder / file_name).read_bytes()

    @fuzz(mutated(seed), examples)
    def check(data):
        (folder / file_name).write_bytes(data)
        expect_only_vislab_errors(load_coco_data, folder)

    check()


def target_checkpoint(seed_path: Path, work: Path, read, examples: int):
    """Fuzz a checkpoint loader with mutated bytes and with mutated contents."""
    target_bytes(seed_path, work, read, examples)
    state = torch.load(seed_path, weights_only=True)
    path = work / f"structural-{seed_path.parent.name}.pt"

    @fuzz(structurally_mutated(state), examples)
    def check(content):
        torch.save(content, path)
        expect_only_vislab_errors(read, path)

    check()


def _raise_key_error(path: Path) -> None:
    raise KeyError(f"a canary reading {path}")


def _allocate_too_much(path: Path) -> None:
    bytearray(MEMORY_LIMIT)


def run(target: str, seeds: Path, work: Path, examples: int) -> None:
    work.mkdir(parents=True, exist_ok=True)
    if target == "idx":
        target_bytes(seeds / "images-idx3-ubyte", work, read_idx, examples)
        target_bytes(seeds / "images-idx3-ubyte.gz", work, read_idx, examples)
    elif target == "hdf5":
        target_coco_file(seeds, work / "captions", CAPTIONS_FILE, examples)
        target_coco_file(seeds, work / "features", features_file("train", True), examples)
        target_coco_file(seeds, work / "grid", grid_features_file("val"), examples)
        target_coco_file(seeds, work / "truth", TRUTH_FILE, examples)
    elif target == "vocabulary":
        target_coco_file(seeds, work, VOCAB_FILE, examples)
    elif target == "annotations":
        target_bytes(seeds / "captions.json", work, read_annotations, examples)
    elif target == "images":
        for kind in ("png", "jpeg", "gif"):
            target_bytes(seeds / f"image.{kind}", work, load_image, examples)
            target_bytes(seeds / f"image.{kind}", work, image_from_url, examples, f"url.{kind}")
    elif target == "checkpoints":
        target_checkpoint(seeds / "rnn" / "best.pt", work, load_captioner, examples)
        target_checkpoint(seeds / "transformer" / "best.pt", work, load_captioner, examples)
        target_checkpoint(seeds / "gan" / "last.pt", work, load_generator, examples)
    elif target == "canary-error":  # the harness must catch a reader's foreign exception
        target_bytes(seeds / "captions.json", work, _raise_key_error, examples)
    elif target == "canary-memory":  # ... and one that runs out of the address space
        target_bytes(seeds / "captions.json", work, _allocate_too_much, examples)
    elif target == "npz":
        target_bytes(seeds / "imagenet_val.npz", work, load_imagenet_val, examples)
    else:
        raise SystemExit(f"unknown target {target}")


def main(argv: list[str]) -> int:
    seeds, work, examples, targets = Path(argv[0]), Path(argv[1]), int(argv[2]), argv[3:]
    failed = 0
    for target in targets:
        try:
            run(target, seeds, work / target, examples)
            report = {"target": target, "ok": True, "detail": ""}
        except BaseException:  # the failure of one target is reported, the others still run
            report = {"target": target, "ok": False, "detail": traceback.format_exc()[-6000:]}
            failed += 1
        print(json.dumps(report), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
