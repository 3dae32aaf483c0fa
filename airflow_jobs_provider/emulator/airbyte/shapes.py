"""How the emulated Airbyte API writes jobs and errors (job-apis.md §3.3, §3.4).

Kept apart from the routes so the shapes (``JobResponse``, problem+json, ISO 8601 durations)
can be read, and tested, on their own.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from airflow_jobs_provider.emulator.core.lifecycle import Phase, Snapshot, StateNames
from airflow_jobs_provider.emulator.core.store import StoredJob

API = "airbyte"
STATES = StateNames(
    queued="pending",
    working="running",
    cancelling="cancelling",  # never served: Airbyte cancels at once, the emulator always cancels immediately
    succeeded="succeeded",
    failed="failed",
    cancelled="cancelled",
)
INCOMPLETE = "incomplete"
ACTIVE = frozenset({"pending", "queued", "running", INCOMPLETE})
ROWS_PER_PERCENT = 120
BYTES_PER_ROW = 512
PROBLEM_TYPES = "https://reference.airbyte.com/reference/errors"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class Problem(Exception):
    """Answer the current request with an RFC 9457 problem, as Airbyte's public API does."""

    def __init__(self, status: int, title: str, detail: str, **data: Any) -> None:
        super().__init__(status, title, detail)
        self.status = status
        self.body: dict[str, Any] = {
            "status": status,
            "type": f"{PROBLEM_TYPES}#{title}",
            "title": title,
            "detail": detail,
            "documentationUrl": None,
            "data": data or None,
        }

    def response(self) -> web.Response:
        return web.json_response(self.body, status=self.status, content_type=PROBLEM_CONTENT_TYPE)


def raw_status(job: StoredJob, snap: Snapshot, now: float) -> str:
    """The state Airbyte shows; a job scripted to fail is ``incomplete`` for the second half of its work.

    That is how a failing Airbyte job looks: an attempt fails, the job turns incomplete while the
    platform retries, and only then does it fail.
    """
    facts = job.facts
    if snap.phase is not Phase.WORKING or facts.forced_status is not None or facts.cancel_at is not None:
        return snap.raw_status
    if facts.script.outcome != STATES.failed:
        return snap.raw_status
    halfway = facts.created + facts.script.queue_seconds + facts.script.duration / 2
    return INCOMPLETE if now >= halfway else snap.raw_status


def job_json(job: StoredJob, snap: Snapshot, now: float) -> dict[str, Any]:
    """A ``JobResponse``: jobId is an integer, times are ISO 8601, duration an ISO 8601 duration."""
    status = raw_status(job, snap, now)
    updated = now if status in ACTIVE and snap.phase is Phase.WORKING else snap.updated_at
    rows = round(snap.progress * ROWS_PER_PERCENT) if job.attrs["jobType"] == "sync" else 0
    return {
        "jobId": int(job.job_id),
        "status": status,
        "jobType": job.attrs["jobType"],
        "startTime": iso_seconds(snap.created_at),
        "connectionId": job.attrs["connectionId"],
        "lastUpdatedAt": iso_seconds(updated),
        "duration": iso_duration(updated - snap.created_at),
        "bytesSynced": rows * BYTES_PER_ROW,
        "rowsSynced": rows,
    }


WORKSPACE_ID = "5ae6b09b-fdec-41af-aaf7-7d94cfc33ef6"
"""The one workspace of the emulator: every connection belongs to it."""
STREAMS = ({"name": "users", "namespace": "public", "syncMode": "incremental_append"},
           {"name": "orders", "namespace": "public", "syncMode": "full_refresh_overwrite"})


def connection_json(connection_id: str) -> dict[str, Any]:
    """A ``ConnectionResponse`` for any connection UUID: the emulator keeps no catalogue, so the
    source and destination ids derive from the connection's, and every connection syncs STREAMS."""
    source = str(uuid.uuid5(uuid.NAMESPACE_URL, f"airbyte-source-{connection_id}"))
    destination = str(uuid.uuid5(uuid.NAMESPACE_URL, f"airbyte-destination-{connection_id}"))
    return {
        "connectionId": connection_id,
        "name": f"Emulated connection {connection_id[:8]}",
        "sourceId": source,
        "destinationId": destination,
        "workspaceId": WORKSPACE_ID,
        "status": "active",
        "schedule": {"scheduleType": "manual"},
        "namespaceDefinition": "destination",
        "prefix": "",
        "nonBreakingSchemaUpdatesBehavior": "ignore",
        "configurations": {"streams": [dict(stream) for stream in STREAMS]},
        "createdAt": 1700000000,
        "tags": [],
    }


def iso_seconds(epoch: float) -> str:
    """``2023-03-25T01:30:50Z``, the way Airbyte writes job times."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_duration(seconds: float) -> str:
    """ISO 8601 duration as Java's ``Duration.toString`` writes it: PT0S, PT1.5S, PT1M2S, PT8H6M12.345S."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if millis or not (hours or minutes):
        whole, fraction = divmod(millis, 1000)
        text += f"{whole}.{fraction:03d}".rstrip("0").rstrip(".") + "S"
    return text
