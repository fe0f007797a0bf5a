"""The lab's state: its folders, worker pool, jobs, images and the models it has loaded."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from vislab.backbones.classifier import ImageClassifier
from vislab.backbones.registry import BACKBONES, load_backbone
from vislab.errors import InvalidInputError
from vislab.serve.catalog import Catalog, scan_runs
from vislab.serve.jobs import JobStore, WorkerPool
from vislab.serve.uploads import ImageStore


class Lab:
    """One server's state. runs_dir is only read; temp_dir is where uploads pass through."""

    def __init__(
        self,
        runs_dir: str | Path,
        temp_dir: str | Path,
        workers: int = 2,
        queue_limit: int = 8,
        backbones: dict[str, Callable[[], ImageClassifier]] | None = None,
    ):
        self.runs_dir = Path(runs_dir).resolve()
        self.temp_dir = Path(temp_dir).resolve()
        self.pool = WorkerPool(workers, queue_limit)
        self.jobs = JobStore(self.pool)
        self.images = ImageStore(self.temp_dir)
        # name -> loader; tests put tiny classifiers here, the CLI uses the real ones.
        self.backbones = backbones or {name: _loader(name) for name in BACKBONES}
        self._cache: dict = {}
        self._lock = threading.Lock()

    def cached(self, key, build: Callable):
        """build() once per key (models, data sets); later calls get the same object."""
        with self._lock:
            if key not in self._cache:
                self._cache[key] = build()
            return self._cache[key]

    def classifier(self, name: str) -> ImageClassifier:
        if name not in self.backbones:
            raise InvalidInputError(
                f"unknown model {name!r}; choose from {', '.join(self.backbones)}"
            )
        return self.cached(("backbone", name), self.backbones[name])

    def catalog(self) -> Catalog:
        """What the runs folder holds now (walked again on every call: it is small)."""
        return scan_runs(self.runs_dir)

    def close(self) -> None:
        self.jobs.cancel_all()
        self.pool.shutdown()


def _loader(name: str) -> Callable[[], ImageClassifier]:
    return lambda: load_backbone(name)
