"""``GET /jobs/{jobId}/open-api-lineage``: the job's OpenLineage events, as the Queue API serves them.

A START event with the input tables once the job has started, and a COMPLETE (or FAIL / ABORT)
event with the output tables once it has ended. Namespaces follow the shape of Keboola's own
events (``<Storage host>/project/<projectId>``, per the Queue API's OpenAPI examples; unverified
against a live stack); the producer is the Storage host.
"""

from __future__ import annotations

import uuid
from typing import Any

from airflow_jobs_provider.emulator.core.lifecycle import Snapshot
from airflow_jobs_provider.emulator.core.store import StoredJob
from airflow_jobs_provider.emulator.keboola.shapes import (
    NOT_STARTED,
    PROJECT,
    STATES,
    TERMINATED,
    is_finished,
    offset_time,
    status_of,
    tables_of,
)

SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
END_EVENTS = {STATES.succeeded: "COMPLETE", STATES.cancelled: "ABORT", TERMINATED: "ABORT"}


def lineage_events(job: StoredJob, snap: Snapshot, storage_host: str) -> list[dict[str, Any]]:
    """The events so far: none before the job starts, START while it works, START and its end after."""
    status = status_of(job, snap)
    if status in NOT_STARTED or snap.started_at is None:
        return []
    namespace = f"{storage_host}/project/{PROJECT['id']}"
    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"keboola-job-{job.job_id}"))
    inputs, outputs = tables_of(job)
    base = {
        "run": {"runId": run_id},
        "job": {"namespace": namespace, "name": f"{job.attrs['component']}-{job.attrs.get('config') or 'inline'}"},
        "producer": f"https://{storage_host}",
        "schemaURL": SCHEMA_URL,
    }
    start = {**base, "eventType": "START", "eventTime": offset_time(snap.started_at),
             "inputs": [{"namespace": namespace, "name": table} for table in inputs]}
    if not is_finished(job, status):
        return [start]
    written = outputs if status == STATES.succeeded else []
    end = {**base, "eventType": END_EVENTS.get(status, "FAIL"), "eventTime": offset_time(snap.updated_at),
           "outputs": [{"namespace": namespace, "name": table} for table in written]}
    return [start, end]
