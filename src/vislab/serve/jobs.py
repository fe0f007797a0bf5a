"""Bounded work for the web lab: a small worker pool with a queue limit, and long jobs.

Every request that computes (a prediction, a saliency map, an attack) runs on one of
`workers` threads. At most `queue_limit` more may wait; past that `submit` raises ServerBusy,
which the app answers with 503 at once instead of letting requests pile up. A long job
reports progress through `Job.report`, which is also where a cancelled job stops: the next
report after `cancel()` raises JobCancelled inside the worker.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from vislab.errors import VislabError

logger = logging.getLogger(__name__)

TERMINAL = ("done", "failed", "cancelled")


class ServerBusy(Exception):
    """Every worker is busy and the queue is full (answered with 503)."""


class JobCancelled(Exception):
    """Raised inside a job's worker at its next progress report after cancel()."""


class WorkerPool:
    """`workers` threads; at most `workers + queue_limit` tasks admitted at once."""

    def __init__(self, workers: int = 2, queue_limit: int = 8):
        if workers < 1 or queue_limit < 0:
            raise ValueError("need workers >= 1 and queue_limit >= 0")
        self.workers, self.queue_limit = workers, queue_limit
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="vislab-serve")
        self._slots = threading.BoundedSemaphore(workers + queue_limit)

    def submit(self, function: Callable, *args) -> Future:
        """Run function(*args) on a worker; ServerBusy when the queue is full."""
        if not self._slots.acquire(blocking=False):
            raise ServerBusy(
                f"the server is busy: {self.workers} workers are running and {self.queue_limit} "
                "requests are waiting; try again in a few seconds"
            )
        try:
            future = self._executor.submit(function, *args)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        return future

    async def run(self, function: Callable, *args):
        """Await function(*args) on a worker without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(function, *args))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


@dataclass
class Job:
    """A long task's state, shared between its worker and the requests that watch it."""

    id: str
    kind: str
    status: str = "queued"  # queued | running | done | failed | cancelled
    done: int = 0
    total: int = 1
    message: str = "waiting for a worker"
    result: dict = field(default_factory=dict)
    error: str | None = None
    version: int = 0
    created: float = field(default_factory=time.monotonic)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def report(self, done: int, total: int, message: str, **result) -> None:
        """Progress from the worker: `done` of `total` steps; `result` keys are merged."""
        if self._cancel.is_set():
            raise JobCancelled(self.id)
        with self._lock:
            self.done, self.total, self.message = done, total, message
            self.result.update(result)
            self.version += 1

    def cancel(self) -> None:
        self._cancel.set()
        with self._lock:
            if self.status == "queued":
                self._finish("cancelled", "cancelled before it started")

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _finish(self, status: str, message: str, error: str | None = None) -> None:
        self.status, self.message, self.error = status, message, error
        self.version += 1

    def finish(
        self, status: str, message: str, error: str | None = None, result: dict | None = None
    ) -> None:
        with self._lock:
            if status == "done":
                self.done = self.total
            self.result.update(result or {})
            self._finish(status, message, error)

    def start(self) -> bool:
        """Mark running; False when it was cancelled while it waited."""
        with self._lock:
            if self.status != "queued":
                return False
            self.status, self.message = "running", "started"
            self.version += 1
            return True

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "id": self.id,
                "kind": self.kind,
                "status": self.status,
                "done": self.done,
                "total": self.total,
                "message": self.message,
                "result": dict(self.result),
                "error": self.error,
                "version": self.version,
            }


class JobStore:
    """Jobs by id; only the latest `keep` are remembered (older finished ones are dropped)."""

    def __init__(self, pool: WorkerPool, keep: int = 32):
        self.pool, self.keep = pool, keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, kind: str, work: Callable[[Job], dict]) -> Job:
        """Queue work(job) -> final result dict; ServerBusy when the pool is full."""
        with self._lock:
            job = Job(id=f"{next(self._ids):06d}", kind=kind)
        self.pool.submit(self._run, job, work)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def cancel_all(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel()

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.status in TERMINAL]
        for job in finished[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[job.id]

    @staticmethod
    def _run(job: Job, work: Callable[[Job], dict]) -> None:
        if not job.start():
            return
        try:
            result = work(job)
        except JobCancelled:
            job.finish("cancelled", "cancelled")
        except VislabError as error:
            job.finish("failed", str(error), str(error))
        except Exception:
            logger.exception("job %s (%s) failed", job.id, job.kind)
            job.finish("failed", "internal error", "the job failed unexpectedly; see the log")
        else:
            job.finish("done", "done", result=result)
