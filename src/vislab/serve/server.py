"""Starting the lab: a temporary folder, one listening socket (a free port by default) and
uvicorn serving the app on it until Ctrl-C."""

from __future__ import annotations

import logging
import os
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
import uvicorn

from vislab.errors import InvalidInputError
from vislab.serve.app import create_app
from vislab.serve.lab import Lab

logger = logging.getLogger(__name__)


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (port 0: a free one the system picks)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise InvalidInputError(f"cannot listen on {host}:{port}: {error.strerror}") from error
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(
    runs_dir: str | os.PathLike,
    host: str = "127.0.0.1",
    port: int = 0,
    workers: int = 2,
    queue_limit: int = 8,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the lab over runs_dir until interrupted; on_ready(url) once it listens."""
    if not 0 <= port <= 65535:
        raise InvalidInputError(f"--port must be 0 (a free port) or 1..65535, not {port}")
    if workers < 1 or queue_limit < 0:
        raise InvalidInputError(
            f"--workers must be at least 1 and --queue at least 0, not {workers} and {queue_limit}"
        )
    runs = Path(runs_dir).resolve()
    if runs.exists() and not runs.is_dir():
        raise InvalidInputError(f"--runs {runs_dir} is a file, not a folder")
    # Each worker gets its share of the cores: threads spinning against each other on a
    # small machine are far slower than one thread each.
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
    with tempfile.TemporaryDirectory(prefix="vislab-serve-") as temp_dir:
        # Uploads the multipart parser spools to disk land in the lab's temporary folder; the
        # process-wide default is put back however serving ends (a socket that cannot listen
        # included), since the folder is gone afterwards.
        previous_tempdir, tempfile.tempdir = tempfile.tempdir, temp_dir
        try:
            _serve_in(runs, temp_dir, host, port, workers, queue_limit, on_ready)
        finally:
            tempfile.tempdir = previous_tempdir


def _serve_in(
    runs: Path,
    temp_dir: str,
    host: str,
    port: int,
    workers: int,
    queue_limit: int,
    on_ready: Callable[[str], None] | None,
) -> None:
    sock = listening_socket(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    lab = Lab(runs, temp_dir, workers=workers, queue_limit=queue_limit)
    config = uvicorn.Config(
        create_app(lab),
        log_level="warning",
        timeout_graceful_shutdown=3,
        timeout_keep_alive=30,
        access_log=False,
    )
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready(f"http://{shown}:{bound_port}/")
    try:
        server.run(sockets=[sock])
        # uvicorn re-raises the Ctrl-C it shut down for from inside asyncio's runner, which
        # turns it into a KeyboardInterrupt only when the serving task has not finished yet:
        # a stop asked for is an interruption either way.
        if server.started and server.should_exit:
            raise KeyboardInterrupt
    finally:
        lab.close()
        sock.close()
