"""The child process of the kill/resume tests: one tiny training run that pauses where told.

    python tests/run_child.py TRAINER DATA OUT [PAUSE]

TRAINER: rnn, transformer or dcgan (DATA: a coco_captioning folder; unused by dcgan, which
draws its 32 images from a fixed seed): the run passes resume=True and writes a mid-epoch
checkpoint every 2 iterations. Or cli: DATA is a `vislab` command line as a JSON list.
PAUSE makes the moment to kill it observable: `step:N` pauses after the N-th completed step
of this process (mid-epoch when N is not a multiple of the steps per epoch);
`replace:NAME:N` pauses inside the N-th atomic write of OUT/NAME, once the temporary file is
complete and before it is renamed over NAME. At the pause the child creates OUT.paused and
waits until it is killed or the file is removed. The hooks live here, not in vislab: the
library has no test switches.

`run_child`, `kill_at`, `finish`, `same_state` and `full_disk_for` are the helpers the tests call.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CHILD = Path(__file__).resolve()
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _pause(out: Path) -> None:
    """Create OUT.paused and wait until it is removed (or the child is killed)."""
    marker = Path(f"{out}.paused")
    marker.touch()
    deadline = time.monotonic() + 600
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _install_pause(pause: str, out: Path) -> None:
    kind, _, rest = pause.partition(":")
    if kind == "step":
        from vislab.run_guard import RunGuard

        original, target, count = RunGuard.after_step, int(rest), [0]

        def after_step(self, iteration):
            count[0] += 1
            if count[0] == target:
                _pause(out)
            return original(self, iteration)

        RunGuard.after_step = after_step
    elif kind == "replace":
        name, _, number = rest.partition(":")
        original, target, count = os.replace, int(number), [0]

        def replace(source, destination, **kwargs):
            if Path(destination).name == name and Path(destination).parent == out:
                count[0] += 1
                if count[0] == target:
                    _pause(out)
            return original(source, destination, **kwargs)

        os.replace = replace
    else:
        raise SystemExit(f"unknown pause {pause!r}")


def _train(trainer: str, data: str, out: Path) -> int:
    import torch

    torch.set_num_threads(1)
    if trainer == "cli":  # DATA is the command line, as JSON
        from vislab.cli.main import main

        return main(json.loads(data))
    if trainer == "dcgan":
        from vislab.gan import GanConfig, train_gan

        images = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0))
        config = GanConfig(model="dc", loss="ls", epochs=2, batch_size=8, noise_dim=8,
                           show_every=3, num_train=32, seed=3)  # fmt: skip
        train_gan(images, config, out, resume=True, checkpoint_every="2it")
        return 0
    from vislab.captioning import train_captioner

    sizes = (
        {"wordvec_dim": 16, "num_heads": 2, "num_layers": 1, "max_length": 20}
        if trainer == "transformer"
        else {"wordvec_dim": 8, "hidden_dim": 16, "lr_decay": 0.9, "blas_threads": 1}
    )
    train_captioner(trainer, data, out, epochs=3, batch_size=10, max_train=30,
                    learning_rate=1e-2, seed=5, resume=True, checkpoint_every="2it",
                    max_val_captions=10, **sizes)  # fmt: skip
    return 0


def run_child(
    trainer: str, data: Path | str, out: Path, pause: str | None = None, cwd: Path | None = None
) -> subprocess.Popen:
    """Start the child (its output goes to OUT.log; OUT relative to `cwd` if given)."""
    log = open(Path(cwd or ".") / f"{out}.log", "ab")  # noqa: SIM115 (closed with the process)
    command = [sys.executable, str(CHILD), trainer, str(data), str(out)]
    return subprocess.Popen([*command, *([pause] if pause else [])], env=ENV, stdout=log,
                            stderr=subprocess.STDOUT, cwd=cwd)  # fmt: skip


def kill_at(trainer: str, data: Path, out: Path, pause: str, timeout: float = 240) -> None:
    """Run the child until it pauses at `pause`, then SIGKILL it; fail if it never pauses."""
    marker = Path(f"{out}.paused")
    child = run_child(trainer, data, out, pause)
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if child.poll() is not None:
            log = Path(f"{out}.log").read_text(errors="replace")[-2000:]
            raise AssertionError(f"{trainer} ended (rc {child.returncode}) before {pause}: {log}")
        if time.monotonic() > deadline:
            child.kill()
            raise AssertionError(f"{trainer} did not reach {pause} in {timeout} s")
        time.sleep(0.05)
    child.kill()  # SIGKILL: no handler runs, nothing is flushed
    child.wait()
    marker.unlink()


def finish(child: subprocess.Popen, out: Path, timeout: float = 240) -> None:
    """Wait for a child to end and require that it succeeded."""
    if child.wait(timeout) != 0:
        log = Path(f"{out}.log").read_text(errors="replace")[-2000:]
        raise AssertionError(f"the child failed (rc {child.returncode}): {log}")


def same_state(a, b, where: str = "") -> None:
    """Everything in two checkpoints is equal: tensors bit for bit, the rest by ==."""
    import torch

    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            same_state(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same_state(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def full_disk_for(name: str):
    """An os.fsync that fails with ENOSPC for the temporary files of `name`."""
    fsync = os.fsync

    def maybe_full(fd):
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(f".{name}."):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return fsync(fd)

    return maybe_full


if __name__ == "__main__":
    name, data_dir, out_dir = sys.argv[1:4]
    if len(sys.argv) > 4:
        _install_pause(sys.argv[4], Path(out_dir))
    raise SystemExit(_train(name, data_dir, Path(out_dir)))
