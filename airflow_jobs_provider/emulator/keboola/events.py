"""The Storage API's event list for a job's run (``GET /v2/storage/events?runId=…``).

On Keboola the events live on the Storage API host (``connection.<stack>``), beside the Queue API
host (``queue.<stack>``). The emulator serves both APIs on one server, so a connection whose host
is the emulator finds the events on that same host (the provider's default when the host is not a
``queue.`` host; extra ``storage_url`` says otherwise). Events are, like job states, a pure function
of the job's script and the clock: created, started, the scripted progress steps, and the end
(for a failure, the error event carrying the script's error text). The list is newest first, as
Keboola's; ``sinceId`` / ``maxId`` / ``limit`` / ``offset`` page it, ``runId`` picks the run.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from airflow_jobs_provider.emulator.core.http_util import query_number
from airflow_jobs_provider.emulator.core.lifecycle import Snapshot
from airflow_jobs_provider.emulator.core.store import JobStore, StoredJob
from airflow_jobs_provider.emulator.keboola.shapes import (
    STATES,
    SUCCESS_MESSAGE,
    TOKEN,
    WARNING,
    is_finished,
    offset_time,
    status_of,
)

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
EVENTS_PER_JOB = 100
"""Event ids are ``job id * EVENTS_PER_JOB + n``: unique and growing within a job and across jobs."""


def job_events(job: StoredJob, snap: Snapshot, now: float) -> list[dict[str, Any]]:
    """The job's events so far, oldest first."""
    attrs = job.attrs
    component = str(attrs["component"])
    status = status_of(job, snap)
    finished = is_finished(job, status)
    events: list[tuple[str, str, str, float]] = [("info", "job-created", f"Job {job.job_id} created", snap.created_at)]
    if snap.started_at is not None and status not in ("created", "waiting", STATES.cancelled):
        started = snap.started_at
        events.append(("info", "job-started", f"Running component {component} (config {attrs.get('config')})", started))
        script = job.facts.script
        horizon = snap.updated_at if finished else now
        for step, percent in enumerate(script.progress):
            at = started + script.duration * step / len(script.progress)
            if at <= horizon:
                events.append(("info", "job-progress", f"Processed {percent:g}% of the input", at))
    if finished:
        end = snap.updated_at
        if status == STATES.succeeded:
            events.append(("success", "job-finished", f"Job {job.job_id} finished: {SUCCESS_MESSAGE}", end))
        elif status in (STATES.failed, WARNING):
            events.append(("error", "job-error", job.facts.script.error, end))
            events.append(("info", "job-ended", f"Job {job.job_id} ended with status {status}", end))
        else:
            events.append(("warn", "job-terminated", f"Job {job.job_id} was {status}", end))
    return [_event(job, index, *event) for index, event in enumerate(events)]


def _event(job: StoredJob, index: int, kind: str, name: str, message: str, at: float) -> dict[str, Any]:
    return {
        "id": str(int(job.job_id) * EVENTS_PER_JOB + index),
        "event": f"ext.{job.attrs['component']}.{name}",
        "component": job.attrs["component"],
        "message": message,
        "description": "",
        "type": kind,
        "runId": job.attrs["runId"],
        "created": offset_time(at),
        "params": [],
        "results": [],
        "performance": [],
        "token": {"id": TOKEN["id"], "name": TOKEN["description"]},
        "configurationId": job.attrs.get("config"),
        "objectId": job.job_id,
        "objectName": "job",
        "objectType": "job",
        "context": [],
        "attachments": [],
    }


def _integer(query: Any, name: str, low: int, high: int | None = None) -> int | None:
    from airflow_jobs_provider.emulator.keboola.routes import keboola_error

    limits = f"from {low} to {high}" if high is not None else f"of at least {low}"

    def refuse(text: str) -> Exception:
        return keboola_error(400, f'Invalid parameter "{name}": expected a whole number {limits}, got "{text[:40]}"')

    return query_number(query, name, low, high, refuse)


def list_events(store: JobStore, api: str, request: web.Request) -> list[dict[str, Any]]:
    """The events that match the query, newest first."""
    query = request.query
    since, top = _integer(query, "sinceId", 0), _integer(query, "maxId", 0)
    limit = _integer(query, "limit", 1, MAX_LIMIT) or DEFAULT_LIMIT
    offset = _integer(query, "offset", 0) or 0
    run_id = query.get("runId")
    events = []
    for job in store.jobs(api):
        if run_id is not None and job.attrs["runId"] != run_id:
            continue
        events += job_events(job, store.observe(job), store.now())
    chosen = [
        event
        for event in events
        if (since is None or int(event["id"]) > since) and (top is None or int(event["id"]) <= top)
    ]
    chosen.sort(key=lambda event: int(event["id"]), reverse=True)
    return chosen[offset : offset + limit]
