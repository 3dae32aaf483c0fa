"""What the event-watcher tests share: one profile per API, starting jobs, and waiting for them to end."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.version_compat import AIRFLOW_V_3_3_PLUS
from tests.support.polling import apoll_until

needs_asset_state_store = pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS,
    reason="Airflow 3.3+: the triggerer injects the asset state store and runs shared streams",
)
WAIT_TIMEOUT = 20.0
"""Seconds an event-watcher test waits for one step (``apoll_until(..., timeout=WAIT_TIMEOUT)``)."""


@dataclass(frozen=True)
class Profile:
    """One API as a watcher sees it: the jobs it starts, the filter, and the list endpoint's path."""

    emulator_api: str
    conn_id: str
    target: dict[str, Any]
    """Starts a job the watcher's filter matches."""
    other: dict[str, Any]
    """Starts a job of another pipe / configuration / connection / task: never reported."""
    filters: dict[str, Any]
    list_path: str


PROFILES = {
    "tinybird": Profile(
        "tinybird",
        "jobs_default",
        {"kind": "copy", "pipe": "sales_rollup"},
        {"kind": "copy", "pipe": "other_pipe"},
        {"kind": "copy", "pipe_name": "sales_rollup"},
        "/v0/jobs",
    ),
    "keboola": Profile(
        "keboola",
        "jobs_keboola",
        {"component": "keboola.ex-db-snowflake", "config": "554424643"},
        {"component": "keboola.ex-db-snowflake", "config": "999"},
        {"componentId": "keboola.ex-db-snowflake", "configId": "554424643"},
        "/search/jobs",
    ),
    "airbyte": Profile(
        "airbyte",
        "jobs_airbyte",
        {"connectionId": "e735894a-e773-4938-969f-45f53957b75b", "jobType": "sync"},
        {"connectionId": "0b3b6a8e-1a3c-4b0e-9a51-2d1c0f5e7a11", "jobType": "sync"},
        {"connectionId": "e735894a-e773-4938-969f-45f53957b75b"},
        "/v1/jobs",
    ),
    "rest": Profile(
        "acme",
        "jobs_acme",
        {"task": "nightly_report"},
        {"task": "other_report"},
        {"task": "nightly_report"},
        "/acme/v2/runs",
    ),
}


async def start_job(
    emulator: Any, profile: Profile, spec: dict[str, Any], outcome: str = "succeeded", duration: float = 0.3
) -> str:
    """Script the next job of the API, then start it as the upstream system would (off the loop)."""
    emulator.script(profile.emulator_api, outcome=outcome, duration=duration, queue_seconds=0.05)
    job = await asyncio.to_thread(JobsHook(profile.conn_id).start_job, spec)
    return job.job_id


async def run_job(emulator: Any, profile: Profile, spec: dict[str, Any], outcome: str = "succeeded") -> str:
    """Start a short job and wait until it has ended (Airbyte runs one sync per connection at a time)."""
    job_id = await start_job(emulator, profile, spec, outcome)
    await wait_ended(profile, job_id)
    return job_id


async def wait_ended(profile: Profile, job_id: str) -> None:
    hook = JobsHook(profile.conn_id)
    await apoll_until(
        lambda: asyncio.to_thread(hook.get_job, job_id),
        lambda job: job.status.is_terminal,
        timeout=WAIT_TIMEOUT,
        interval=0.05,
        what=f"job {job_id} to end",
    )


def list_polls(emulator: Any, profile: Profile) -> int:
    """How many times the emulator answered the API's job list so far."""
    return sum(
        1
        for entry in emulator.requests()
        if entry["method"] == "GET" and entry["path"].split("?")[0] == profile.list_path
    )


async def more_polls(emulator: Any, profile: Profile, count: int) -> None:
    """Wait until the list has been polled ``count`` more times: the watchers saw the latest state."""
    target = list_polls(emulator, profile) + count
    await apoll_until(
        lambda: list_polls(emulator, profile) >= target, timeout=WAIT_TIMEOUT, what=f"{count} more list polls"
    )
