"""Watching and cancelling jobs: a snapshot (polling), a server-sent event stream, cancel."""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from vislab.errors import InvalidInputError
from vislab.serve.jobs import TERMINAL, Job

router = APIRouter(prefix="/api/jobs")
POLL_SECONDS = 0.1
HEARTBEAT_SECONDS = 10.0


def _job(request: Request, job_id: str) -> Job:
    job = request.app.state.lab.jobs.get(job_id)
    if job is None:
        raise InvalidInputError(f"no job {job_id!r}: it finished long ago or never existed")
    return job


@router.get("/{job_id}")
async def job_state(request: Request, job_id: str) -> dict:
    return _job(request, job_id).snapshot()


@router.delete("/{job_id}")
async def cancel_job(request: Request, job_id: str) -> dict:
    job = _job(request, job_id)
    job.cancel()
    return job.snapshot()


@router.get("/{job_id}/events")
async def job_events(request: Request, job_id: str) -> StreamingResponse:
    """`data: <job snapshot>` each time the job changes, until it is done, failed or cancelled."""
    job = _job(request, job_id)

    async def events():
        version, quiet = -1, 0.0
        while True:
            state = job.snapshot()
            if state["version"] != version:
                version, quiet = state["version"], 0.0
                yield f"data: {json.dumps(state)}\n\n"
                if state["status"] in TERMINAL:
                    return
            elif quiet >= HEARTBEAT_SECONDS:
                quiet = 0.0
                yield ": still working\n\n"
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_SECONDS)
            quiet += POLL_SECONDS

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
