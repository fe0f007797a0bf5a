"""`vislab serve`: the interactive lab in the browser, on this machine only by default."""

from __future__ import annotations

from vislab.cli.arguments import host, non_negative_int, port, positive_int


def _serve(args) -> None:
    from vislab.serve import serve

    def ready(url: str) -> None:
        print(f"vislab lab on {url} (runs from {args.runs}; Ctrl-C stops it)", flush=True)

    serve(
        args.runs,
        host=args.host,
        port=args.port,
        workers=args.workers,
        queue_limit=args.queue,
        on_ready=ready,
    )


def register(groups) -> None:
    p = groups[""].add_parser(
        "serve",
        help="the interactive lab in the browser (explain, fool, caption, generate)",
        description="Serve a local web lab over the checkpoints in a runs folder; prints its URL.",
    )
    p.add_argument("--runs", default="demo-out", help="folder of trained runs (default: demo-out)")
    p.add_argument(
        "--host", type=host, default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    p.add_argument("--port", type=port, default=0, help="port (default 0: a free one)")
    p.add_argument("--workers", type=positive_int, default=2, help="worker threads (default 2)")
    p.add_argument(
        "--queue",
        type=non_negative_int,
        default=8,
        help="requests that may wait for a worker (default 8)",
    )
    p.set_defaults(handler=_serve)
