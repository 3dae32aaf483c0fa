"""The Keboola job object (job-apis.md §2.3) as the Queue API serializes it, from a stored job.

Keboola is a PHP service: empty objects come out as ``[]`` (``result``, ``configData``,
``backend``, ``metrics``, ``usageData``), and so they do here, so clients meet both shapes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from airflow_jobs_provider.emulator.core.lifecycle import Snapshot, StateNames
from airflow_jobs_provider.emulator.core.store import StoredJob

API = "keboola"
STATES = StateNames(
    queued="created",
    working="processing",
    cancelling="terminating",
    succeeded="success",
    failed="error",
    cancelled="cancelled",
)
WAITING = "waiting"
TERMINATED = "terminated"
WARNING = "warning"
FINISHED = frozenset({"success", WARNING, "error", "cancelled", TERMINATED})
UNFINISHED = frozenset({"created", WAITING, "processing", "terminating"})
NOT_STARTED = frozenset({"created", WAITING, "cancelled"})
PROJECT = {"id": "7150", "name": "Emulated project"}
TOKEN = {"id": "199182", "description": "jobs-emulator"}
SUCCESS_MESSAGE = "Component processing finished."


def status_of(job: StoredJob, snap: Snapshot) -> str:
    """Keboola's raw state: a kill that reached a processing job ends ``terminated``."""
    facts = job.facts
    if snap.raw_status == STATES.cancelled and facts.cancel_at is not None and not facts.cancel_immediate:
        return TERMINATED
    return snap.raw_status


def is_finished(job: StoredJob, status: str) -> bool:
    """``isFinished``. A state Keboola does not have is final when a script ended the job in it,
    and transient when it was forced on the job, so both readings can be exercised."""
    if status in FINISHED or status in UNFINISHED:
        return status in FINISHED
    return job.facts.forced_status is None


def offset_time(epoch: float | None) -> str | None:
    """``2022-01-25T16:34:40+00:00``: Keboola's timestamps (seconds, explicit UTC offset)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="seconds")


def exception_id(seed: str) -> str:
    return "exception-" + hashlib.sha1(seed.encode()).hexdigest()[:32]


def tables_of(job: StoredJob) -> tuple[list[str], list[str]]:
    """The table ids a job reads and writes: its inline ``configData.storage`` mapping (``source`` of
    each input, ``destination`` of each output), else one of each named after its configuration."""
    storage = job.attrs.get("configData") or {}
    storage = storage.get("storage") if isinstance(storage, dict) else None
    storage = storage if isinstance(storage, dict) else {}

    def mapped(side: str, key: str) -> list[str]:
        tables = (storage.get(side) or {}).get("tables") if isinstance(storage.get(side), dict) else None
        return [table[key] for table in tables or [] if isinstance(table, dict) and isinstance(table.get(key), str)]

    config = str(job.attrs.get("config") or "inline")
    inputs = mapped("input", "source") or [f"in.c-main.source_{config}"]
    outputs = mapped("output", "destination") or [f"out.c-main.result_{config}"]
    return inputs, outputs


def table_json(table_id: str) -> dict[str, Any]:
    return {"id": table_id, "name": table_id.rsplit(".", 1)[-1], "displayName": table_id.rsplit(".", 1)[-1]}


def result_of(job: StoredJob, status: str) -> dict[str, Any] | list[Any]:
    if status == STATES.succeeded:
        inputs, outputs = tables_of(job)
        return {
            "message": SUCCESS_MESSAGE,
            "configVersion": "1",
            "images": [],
            "input": {"tables": [table_json(table) for table in inputs]},
            "output": {"tables": [table_json(table) for table in outputs]},
        }
    if status in (STATES.failed, WARNING):
        error = {"type": "user", "exceptionId": exception_id(job.job_id)}
        return {"message": job.facts.script.error, "configVersion": "1", "error": error}
    return []


def job_json(job: StoredJob, snap: Snapshot, base: str, now: float) -> dict[str, Any]:
    """The full job object of §2.3 for ``job`` as observed in ``snap``."""
    attrs = job.attrs
    status = status_of(job, snap)
    finished = is_finished(job, status)
    started = None if status in NOT_STARTED else snap.started_at
    ended = snap.updated_at if finished else None
    duration = 0 if started is None else max(0, round((ended if ended is not None else now) - started))
    return {
        "id": job.job_id,
        "runId": attrs["runId"],
        "parentRunId": attrs["parentRunId"],
        "project": PROJECT,
        "token": TOKEN,
        "status": status,
        "desiredStatus": "terminating" if job.facts.cancel_at is not None else "processing",
        "mode": attrs["mode"],
        "component": attrs["component"],
        "config": attrs.get("config"),
        "configData": attrs.get("configData") or [],
        "configRowIds": attrs.get("configRowIds") or [],
        "tag": attrs.get("tag") or "1.0.0",
        "createdTime": offset_time(snap.created_at),
        "startTime": offset_time(started),
        "endTime": offset_time(ended),
        "delayedStartTime": None,
        "durationSeconds": duration,
        "result": result_of(job, status) if finished else [],
        "usageData": [],
        "isFinished": finished,
        "url": f"{base}/jobs/{job.job_id}",
        "branchId": attrs.get("branchId"),
        "variableValuesId": attrs.get("variableValuesId"),
        "variableValuesData": attrs.get("variableValuesData") or {"values": []},
        "backend": attrs.get("backend") or [],
        "executor": "dind",
        "metrics": {"storage": {"inputTablesBytesSum": 0, "outputTablesBytesSum": 0}} if finished else [],
        "behavior": {"onError": None},
        "parallelism": attrs.get("parallelism"),
        "type": "standard",
        "orchestrationJobId": None,
        "orchestrationTaskId": None,
        "previousJobId": None,
        "onlyOrchestrationTaskIds": None,
    }
