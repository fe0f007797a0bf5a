"""The web lab's application: pages and scripts served by the app itself, the task routes,
errors as one sentence of JSON, and a cap on every request body."""

from __future__ import annotations

import logging
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from vislab import __version__
from vislab.errors import DataNotFoundError, VislabError
from vislab.serve import caption_routes, explain_routes, gan_routes, job_routes
from vislab.serve.jobs import ServerBusy
from vislab.serve.lab import Lab
from vislab.serve.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS

logger = logging.getLogger(__name__)
STATIC = resources.files("vislab.serve") / "static"
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024  # an upload plus its multipart envelope


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: answer 413 to any request body over max_bytes, read or announced."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.max_bytes:
            return await _too_large(send, self.max_bytes)
        seen, too_large, replaced = 0, False, False

        async def limited_receive():
            nonlocal seen, too_large
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                too_large = True
                raise BodyTooLarge
            return message

        async def checked_send(message):
            # The app may turn the exception into its own answer (a body it could not
            # parse is a 400 to FastAPI): once the body ran over, the answer is the 413.
            nonlocal replaced
            if not too_large:
                return await send(message)
            if not replaced:
                replaced = True
                await _too_large(send, self.max_bytes)

        try:
            await self.app(scope, limited_receive, checked_send)
        except BodyTooLarge:
            if not replaced:
                await _too_large(send, self.max_bytes)


async def _too_large(send, max_bytes: int) -> None:
    response = JSONResponse(
        {"error": f"the request is larger than {max_bytes // 2**20} MiB; send a smaller image"},
        status_code=413,
    )
    await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


def create_app(lab: Lab) -> FastAPI:
    """The FastAPI app over `lab`; closing the app closes the lab's pool."""
    app = FastAPI(title="vislab lab", version=__version__, docs_url=None, redoc_url=None)
    app.state.lab = lab
    for module in (explain_routes, job_routes, gan_routes, caption_routes):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.router.add_event_handler("shutdown", lab.close)

    @app.exception_handler(ServerBusy)
    async def busy(request: Request, error: ServerBusy):
        return JSONResponse({"error": str(error)}, status_code=503, headers={"Retry-After": "2"})

    @app.exception_handler(VislabError)
    async def user_error(request: Request, error: VislabError):
        status = 404 if isinstance(error, DataNotFoundError) else 400
        return JSONResponse({"error": str(error)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        return JSONResponse({"error": f"{where or 'request'}: {first['msg']}"}, status_code=400)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception):
        logger.exception("unexpected error in %s", request.url.path)
        return JSONResponse(
            {"error": "the server failed unexpectedly; the log has the details"}, status_code=500
        )

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(str(STATIC / "index.html"), headers={"Cache-Control": "no-store"})

    @app.get("/api/status")
    async def status():
        catalog = lab.catalog()
        return {
            "version": __version__,
            "runs_dir": str(lab.runs_dir),
            "models": list(lab.backbones),
            **explain_routes.explain_status(),
            **caption_routes.caption_status(),
            "gans": list(catalog.gans),
            "captioners": list(catalog.captioners),
            "scene_sets": list(catalog.scene_sets),
            "missing": catalog.missing(),
            "limits": {
                "workers": lab.pool.workers,
                "queue": lab.pool.queue_limit,
                "upload_bytes": MAX_UPLOAD_BYTES,
                "upload_pixels": MAX_UPLOAD_PIXELS,
            },
        }

    return app
