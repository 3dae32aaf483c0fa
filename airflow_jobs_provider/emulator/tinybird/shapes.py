"""Tinybird's job JSON shapes (job-apis.md §1.4): detail, list item, creation and jobs_log row.

Rendering is kept apart from the routes so the shapes can be read (and checked) in one place.
Timestamps follow the server: ``str()`` of a naive UTC datetime in the API, whole seconds in
jobs_log (a ClickHouse DateTime).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from airflow_jobs_provider.emulator.core.lifecycle import Phase, Snapshot, StateNames
from airflow_jobs_provider.emulator.core.store import StoredJob

API = "tinybird"
STATES = StateNames(
    queued="waiting",
    working="working",
    cancelling="cancelling",
    succeeded="done",
    failed="error",
    cancelled="cancelled",
)
POPULATE = "populateview"
IMPORT = "import"


def naive_utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).replace(tzinfo=None)


def api_time(epoch: float | None) -> str | None:
    """``"2024-07-22 11:47:58.207606"``, as the server's ``str(datetime)``."""
    return None if epoch is None else str(naive_utc(epoch))


def log_time(epoch: float | None) -> str | None:
    """``"2024-07-22 11:47:58"``, as ClickHouse prints a DateTime."""
    return None if epoch is None else naive_utc(epoch).strftime("%Y-%m-%d %H:%M:%S")


def job_url(base_url: str, job: StoredJob) -> str:
    return f"{base_url}/v0/jobs/{job.job_id}"


def is_cancellable(job: StoredJob, snap: Snapshot) -> bool:
    """Waiting jobs can be cancelled; populate jobs also while working (§1.5)."""
    return snap.phase is Phase.QUEUED or (job.kind == POPULATE and snap.phase is Phase.WORKING)


def _shows_progress(job: StoredJob) -> bool:
    # Populate jobs always report progress; the emulator lets scripted copy jobs do so too,
    # so progress logging can be shown with the most common job kind.
    return job.kind == POPULATE or (job.kind == "copy" and bool(job.facts.script.progress))


def _queries(job: StoredJob, snap: Snapshot) -> list[dict[str, Any]]:
    """Populate sub-queries, done one after the other as progress moves on.

    The first unfinished query carries the job's activity: working while the job works, the
    job's final state (error, cancelled, ...) once it has ended without succeeding.
    """
    query_ids: list[str] = list(job.attrs["query_ids"])
    share = 100.0 / len(query_ids)
    active = {Phase.QUEUED: STATES.queued, Phase.FINISHED: snap.raw_status}.get(snap.phase, STATES.working)
    queries: list[dict[str, Any]] = []
    for index, query_id in enumerate(query_ids):
        if snap.raw_status == STATES.succeeded or snap.progress >= share * (index + 1):
            status = STATES.succeeded
        else:
            status, active = active, STATES.queued
        queries.append({"query_id": query_id, "status": status})
    return queries


def detail_json(job: StoredJob, snap: Snapshot) -> dict[str, Any]:
    """``Job.to_json`` plus kind fields and progress details: GET detail and cancel answers."""
    body: dict[str, Any] = {
        "kind": job.kind,
        "id": job.job_id,
        "job_id": job.job_id,
        "status": snap.raw_status,
        "created_at": api_time(snap.created_at),
        "updated_at": api_time(snap.updated_at),
        "started_at": api_time(snap.started_at),
        "is_cancellable": is_cancellable(job, snap),
    }
    attrs = job.attrs
    if attrs.get("mode"):
        body["mode"] = attrs["mode"]
    if attrs.get("datasource"):
        body["datasource"] = dict(attrs["datasource"])
    if job.kind == IMPORT:
        done = snap.raw_status == STATES.succeeded
        body.update(
            import_id=job.job_id,
            url=attrs["url"],
            statistics={"bytes": 2048, "row_count": 100} if done else None,
            quarantine_rows=0,
            invalid_lines=0,
        )
    if "pipe_id" in attrs:
        body.update(pipe_id=attrs["pipe_id"], pipe_name=attrs["pipe_name"])
    if job.kind == POPULATE:
        body["query_id"] = attrs["query_ids"][0]
        for optional in ("populate_subset", "populate_condition"):
            if attrs.get(optional) is not None:
                body[optional] = attrs[optional]
        body["queries"] = _queries(job, snap)
    if _shows_progress(job):
        body["progress_percentage"] = snap.progress
    if snap.error is not None:
        body["error"] = snap.error
        if job.kind == IMPORT:
            body["errors"] = [snap.error]
    return body


def list_item_json(job: StoredJob, snap: Snapshot, base_url: str) -> dict[str, Any]:
    """``Job.to_public_json``: the short form served by the list endpoint."""
    body: dict[str, Any] = {
        "id": job.job_id,
        "kind": job.kind,
        "status": snap.raw_status,
        "created_at": api_time(snap.created_at),
        "updated_at": api_time(snap.updated_at),
        "is_cancellable": is_cancellable(job, snap),
        "job_url": job_url(base_url, job),
    }
    if job.attrs.get("datasource"):
        body["datasource"] = dict(job.attrs["datasource"])
    if "pipe_id" in job.attrs:
        body.update(pipe_id=job.attrs["pipe_id"], pipe_name=job.attrs["pipe_name"])
    return body


def creation_json(job: StoredJob, snap: Snapshot, base_url: str) -> dict[str, Any]:
    """``get_job_output``: ids and URL at the top and inside ``job``, for every reader (§1.6)."""
    url = job_url(base_url, job)
    inner = {**detail_json(job, snap), "job_url": url}
    body: dict[str, Any] = {
        "id": job.job_id,
        "job_id": job.job_id,
        "job_url": url,
        "job": inner,
        "status": snap.raw_status,
    }
    if job.kind == IMPORT:
        body["import_id"] = job.job_id
    return body


def _metadata(job: StoredJob) -> dict[str, Any]:
    attrs = job.attrs
    metadata: dict[str, Any] = {}
    if attrs.get("mode"):
        metadata["mode"] = attrs["mode"]
    if job.kind in ("copy", "sink"):
        metadata.update(execution_type="manual", parameters=dict(attrs.get("parameters", {})))
    if job.kind == IMPORT:
        metadata.update(url=attrs["url"], format=attrs["format"], quarantine_rows=0, invalid_lines=0)
    if job.kind == POPULATE:
        metadata.update(truncate=attrs["truncate"], query_id=attrs["query_ids"][0])
    return metadata


def jobs_log_row(job: StoredJob, snap: Snapshot) -> dict[str, Any]:
    """One row of ``tinybird.jobs_log`` (columns in tinybird_sql.JOBS_LOG_COLUMNS)."""
    datasource = job.attrs.get("datasource") or {}
    return {
        "job_id": job.job_id,
        "job_type": job.kind,
        "status": snap.raw_status,
        "error": snap.error,
        "pipe_id": job.attrs.get("pipe_id", ""),
        "pipe_name": job.attrs.get("pipe_name", ""),
        "datasource_id": datasource.get("id", ""),
        "datasource_name": datasource.get("name", ""),
        "created_at": log_time(snap.created_at),
        "updated_at": log_time(snap.updated_at),
        "started_at": log_time(snap.started_at),
        "job_metadata": json.dumps(_metadata(job)),
    }
