"""The self-managed Airbyte Config API's ``POST /api/v1/jobs/get``: a job with its attempts and logs.

Only that one call: a provider connection opts in with extra ``config_api_url`` (here
``{emulator}/api/v1``) to read attempts, their failure reasons and their logs. Attempts follow the
job's script as the public API's states do (emulator/airbyte/shapes.py): a job scripted to fail
fails its first attempt halfway (the job is ``incomplete`` then), and its second at the end; a
successful job has one attempt. The Config API's errors are ``{"message": …}`` bodies.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from airflow_jobs_provider.emulator.airbyte.shapes import BYTES_PER_ROW, ROWS_PER_PERCENT, STATES
from airflow_jobs_provider.emulator.core.lifecycle import Phase, Snapshot, progress_at
from airflow_jobs_provider.emulator.core.store import StoredJob

CANCELLED_MESSAGE = "The sync was cancelled."


def config_error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"message": message, "exceptionClassName": "io.airbyte.commons.server.errors"}, status=status
    )


async def job_id_of(request: web.Request) -> str | web.Response:
    """The ``id`` of the body (an integer), or the 400/422 answer a bad body gets."""
    try:
        text = (await request.read()).decode("utf-8")
        body = json.loads(text) if text.strip() else None
    except ValueError:  # UnicodeDecodeError too
        return config_error(400, "Malformed JSON in the request body")
    if not isinstance(body, dict):
        return config_error(422, 'The request body must be a JSON object such as {"id": 42}')
    job_id = body.get("id")
    if isinstance(job_id, bool) or not isinstance(job_id, int) or job_id < 0:
        return config_error(422, f"id must be a job id (an integer), got {json.dumps(job_id)[:40]}")
    return str(job_id)


def job_info(job: StoredJob, snap: Snapshot, now: float) -> dict[str, Any]:
    """``JobInfoRead``: ``{"job": JobRead, "attempts": [{"attempt": AttemptRead, "logs": {"logLines": […]}}]}``."""
    script, facts = job.facts.script, job.facts
    start = facts.created + script.queue_seconds
    end = snap.updated_at if snap.phase is Phase.FINISHED else None
    attempts: list[dict[str, Any]] = []
    if snap.started_at is not None:
        failing = snap.raw_status == STATES.failed or (script.outcome == STATES.failed and end is None)
        halfway = start + script.duration / 2
        if failing and (end is not None or now >= halfway):
            attempts.append(_attempt(0, start, halfway, "failed", snap, job, script.error))
            attempts.append(
                _attempt(1, halfway, end, "failed" if end is not None else "running", snap, job, script.error)
            )
        elif snap.raw_status == STATES.cancelled:
            attempts.append(_attempt(0, start, end, "failed", snap, job, CANCELLED_MESSAGE, cancelled=True))
        else:
            status = "succeeded" if snap.raw_status == STATES.succeeded else "running"
            attempts.append(_attempt(0, start, end if status == "succeeded" else None, status, snap, job, None))
    return {
        "job": {
            "id": int(job.job_id),
            "configType": job.attrs["jobType"],
            "configId": job.attrs["connectionId"],
            "createdAt": int(facts.created),
            "updatedAt": int(snap.updated_at),
            "status": snap.raw_status,
        },
        "attempts": attempts,
    }


def _attempt(
    number: int, created: float, ended: float | None, status: str, snap: Snapshot, job: StoredJob, error: str | None,
    *, cancelled: bool = False,
) -> dict[str, Any]:  # fmt: skip
    reached = progress_at(job.facts, ended) if ended is not None else snap.progress  # an ended attempt's counts stay
    records = round(reached * ROWS_PER_PERCENT / (2 if status == "failed" else 1))
    attempt: dict[str, Any] = {
        "id": number,
        "status": status,
        "createdAt": int(created),
        "updatedAt": int(ended if ended is not None else created),
        "endedAt": int(ended) if ended is not None else None,
        "bytesSynced": records * BYTES_PER_ROW,
        "recordsSynced": records,
    }
    lines = [f"{_log_time(created)} platform > Starting attempt {number + 1} of job {job.job_id}"]
    if status == "failed":
        failure = {
            "failureOrigin": "airbyte_platform" if cancelled else "source",
            "failureType": "manual_cancellation" if cancelled else "system_error",
            "externalMessage": error,
            "internalMessage": f"io.airbyte.workers.exception.WorkerException: {error}",
            "timestamp": int((ended or created) * 1000),
        }
        attempt["failureSummary"] = {"failures": [failure], "partialSuccess": False}
        lines.append(f"{_log_time(ended or created)} source > ERROR {error}")
    return {"attempt": attempt, "logs": {"logLines": lines}}


def _log_time(epoch: float) -> str:
    from airflow_jobs_provider.emulator.airbyte.shapes import iso_seconds

    return iso_seconds(epoch).replace("T", " ").rstrip("Z")
