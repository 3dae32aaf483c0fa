"""What the soak asks of each API: its connection, a start spec with a unique marker, and how to
find a job by that marker again (the recovery after a start whose answer was lost).

No API offers an idempotency key for starts (docs/job-apis.md): Tinybird, Keboola, Airbyte and a
generic REST API have none, so an uncertain start is found by listing. Faktory's jid is chosen by
the client, so the jid itself finds the job (TRACK GET).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.emulator.airbyte.auth import CLIENT_ID
from airflow_jobs_provider.emulator.connections import ACME_EXTRAS
from airflow_jobs_provider.hooks.jobs import JobsHook

# Fast, bounded retries and a client timeout a busy 2-core machine still meets (a thousand jobs
# poll one emulator process); a stall (3 s) always outlasts it.
POLICY_EXTRAS = {
    "timeout": 2.0,
    "retry_attempts": 16,
    "retry_max_seconds": 30,
    "retry_initial_wait": 0.02,
    "retry_max_wait": 0.25,
    "uncertain_start_settle_seconds": 2.0,  # the emulator shows a job at once; the lookup itself meets faults
    "uncertain_start_polls": 3,
}
HTTP_RATES = {"5xx": 0.20, "429": 0.05, "reset": 0.05, "stall": 0.02, "garbage": 0.01}
# Faktory speaks TCP: no status to fail with. Its share of HTTP's 5xx + 429 becomes replies cut short.
TCP_RATES = {"truncated": 0.25, "reset": 0.05, "stall": 0.02, "garbage": 0.01}
SEED_BATCHED = 20261
"""The fault seed of the batched soak (tests/soak/test_soak_batched.py)."""
RETRY_AFTER = 0.2
STALL_SECONDS = 3.0


@dataclass(frozen=True)
class SoakApi:
    name: str
    """The emulator's name for the API (``acme`` serves the declarative REST adapter)."""
    label: str
    """What the report calls it: the connection's ``api`` extra."""
    spec: Callable[[str, int], dict[str, Any]]
    marker_of: Callable[[dict[str, Any]], str]
    """The start's marker as the emulator's control endpoint shows it on the job it created."""
    find: Callable[[JobsHook, str, dict[str, Any]], list[Job]]
    killable: bool = True
    outcomes: tuple[str, ...] = ("succeeded", "failed", "cancelled")
    extra: dict[str, Any] = field(default_factory=dict)
    shown_as: Callable[[str], str] = str
    """How the emulator shows a marker (Airbyte: as the connection UUID made from it)."""

    @property
    def conn_id(self) -> str:
        return f"soak_{self.label}"

    def connection(self, url: str, faktory_url: str, token: str) -> str:
        host = {"airbyte": f"{url}/v1", "faktory": faktory_url}.get(self.label, url)
        conn: dict[str, Any] = {"conn_type": "jobs", "host": host, "password": token}
        if self.label == "airbyte":
            conn["login"] = CLIENT_ID
        conn["extra"] = {**self.extra, "api": self.label, **POLICY_EXTRAS}
        return json.dumps(conn)


def _connection_id(marker: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, marker))


def _faktory_find(hook: JobsHook, marker: str, spec: dict[str, Any]) -> list[Job]:
    job = hook.get_job(spec["jid"])
    return [] if job.raw_status == "unknown" else [job]


APIS = (
    SoakApi(
        "tinybird",
        "tinybird",
        spec=lambda marker, n: {"kind": "populate", "pipe": marker, "node": "mv"},
        marker_of=lambda job: str(job["attrs"].get("pipe_name")),
        find=lambda hook, marker, spec: hook.list_jobs(pipe_name=marker),
    ),
    SoakApi(
        "keboola",
        "keboola",
        spec=lambda marker, n: {"component": "keboola.ex-soak", "config": marker, "mode": "run"},
        marker_of=lambda job: str(job["attrs"].get("config")),
        find=lambda hook, marker, spec: hook.list_jobs(configId=marker),
    ),
    SoakApi(
        "airbyte",
        "airbyte",
        spec=lambda marker, n: {"connectionId": _connection_id(marker), "jobType": "sync"},
        marker_of=lambda job: str(job["attrs"].get("connectionId")),
        shown_as=_connection_id,
        find=lambda hook, marker, spec: hook.list_jobs(connectionId=spec["connectionId"]),
        extra={"auth": "client_credentials"},
    ),
    SoakApi(
        "acme",
        "rest",
        spec=lambda marker, n: {"task": marker},
        marker_of=lambda job: str(job["attrs"].get("task")),
        find=lambda hook, marker, spec: hook.list_jobs(task=marker),
        extra={key: value for key, value in ACME_EXTRAS.items() if key != "api"},
    ),
    SoakApi(
        "faktory",
        "faktory",
        spec=lambda marker, n: {"jobtype": "Soak", "args": [n], "jid": marker, "retry": -1},
        marker_of=lambda job: str(job["id"]),
        find=_faktory_find,
        killable=False,  # Faktory cannot cancel a job (README): it is left out of the kill group
        outcomes=("succeeded", "failed"),
        extra={"unknown_grace_seconds": 60},
    ),
)

EXPECTED = {"succeeded": JobStatus.SUCCEEDED, "failed": JobStatus.FAILED, "cancelled": JobStatus.CANCELLED}


def marker_for(api: SoakApi, n: int, run: str) -> str:
    """Unique per start; also a valid Tinybird pipe name, Keboola config id, Acme task and Faktory jid."""
    return f"soak_{run}_{api.label}_{n:05d}" if api.label != "keboola" else f"{int(run, 16) % 10**6}{n:05d}"
