"""Airflow connections that point the example DAGs at an emulator (``AIRFLOW_CONN_*`` values)."""

from __future__ import annotations

import json
from typing import Any

from airflow_jobs_provider.emulator.airbyte.auth import airbyte_connection

FAKTORY_UNKNOWN_GRACE = 2
"""Seconds Faktory's 'unknown' counts as PENDING on the emulator's connection (60 s by default)."""

#: The declarative REST description of the emulator's Acme Batch API (see apis/rest.py).
ACME_EXTRAS: dict[str, Any] = {
    "api": "rest",
    "start": "POST /acme/v2/runs",
    "get": "GET /acme/v2/runs/{job_id}",
    "cancel": "POST /acme/v2/runs/{job_id}/abort",
    "list": "GET /acme/v2/runs",
    "job_root": "run",
    "list_root": "runs",
    "id_field": "id",
    "state_field": "state",
    "message_field": "error",
    "progress_field": "progress",
    "url_field": "links.ui",
    "inputs_field": "inputs",
    "outputs_field": "outputs",
    "states": {
        "QUEUED": "PENDING",
        "RUNNING": "RUNNING",
        "ABORTING": "RUNNING",
        "SUCCEEDED": "SUCCEEDED",
        "FAILED": "FAILED",
        "ABORTED": "CANCELLED",
    },
    "auth_header": "X-Api-Key",
    "auth_scheme": "",
    "log_endpoint": "GET /acme/v2/runs/{job_id}/log",
    "log_root": "entries",
    "log_message_field": "message",
    "log_level_field": "level",
    "log_time_field": "at",
    "start_match": {"task": "task"},
    "list_created_after": "created_after",
    "created_field": "created",
    "list_page_size": 100,
    "list_offset_param": "offset",
    "list_limit_param": "limit",
    "list_order_field": "updated",
    "list_since_param": "updated_after",
}
ACME_BATCH_EXTRAS: dict[str, Any] = {
    **ACME_EXTRAS,
    "batch_get": "GET /acme/v2/runs",
    "batch_ids_param": "id",
    "batch_size": 100,
    "batch_feed": True,
}
"""Acme with shared polls: runs read by id (``?id=…&id=…``) and the run list as a changed-since feed."""
LOOKUP_EXTRAS: dict[str, Any] = {"uncertain_start_settle_seconds": 1.0, "uncertain_start_polls": 2}
"""The emulator shows a job the moment it exists: a second is ample time to show an uncertain start's job."""


def connection_env(url: str, token: str, faktory_url: str | None = None) -> dict[str, str]:
    """``AIRFLOW_CONN_JOBS_*`` for an emulator at ``url``: ``DEFAULT`` (Tinybird), ``ACME`` (REST), ``ACME_BATCHED``,
    ``KEBOOLA``, ``AIRBYTE``, and ``FAKTORY`` when ``faktory_url`` is given."""

    def conn(extra: dict[str, Any]) -> str:
        return json.dumps({"conn_type": "jobs", "host": url, "password": token, "extra": {**extra, **LOOKUP_EXTRAS}})

    return {
        "AIRFLOW_CONN_JOBS_DEFAULT": conn({"api": "tinybird"}),
        "AIRFLOW_CONN_JOBS_ACME": conn(ACME_EXTRAS),
        "AIRFLOW_CONN_JOBS_ACME_BATCHED": conn(ACME_BATCH_EXTRAS),
        "AIRFLOW_CONN_JOBS_KEBOOLA": conn({"api": "keboola", "ui_url": url}),  # its UI pages are served here too
        "AIRFLOW_CONN_JOBS_AIRBYTE": airbyte_connection(url, token, LOOKUP_EXTRAS),
        **({"AIRFLOW_CONN_JOBS_FAKTORY": faktory_connection(faktory_url, token)} if faktory_url else {}),
    }


def faktory_connection(faktory_url: str, token: str) -> str:
    """``jobs_faktory``: the emulator's Faktory listener (its own TCP port), with a short unknown-state grace."""
    extra = {"api": "faktory", "unknown_grace_seconds": FAKTORY_UNKNOWN_GRACE, **LOOKUP_EXTRAS}
    return json.dumps({"conn_type": "jobs", "host": faktory_url, "password": token, "extra": extra})
