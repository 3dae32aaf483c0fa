"""What the event-watcher tests share: one profile per API, starting jobs, and waiting without sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.version_compat import AIRFLOW_V_3_3_PLUS

T = TypeVar("T")
needs_asset_state_store = pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS,
    reason="Airflow 3.3+: the triggerer injects the asset state store and runs shared streams",
)
WAIT_TIMEOUT = 20.0


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


async def wait_for(what: str, check: Callable[[], T], timeout: float = WAIT_TIMEOUT) -> T:
    """Poll ``check`` on the event loop (the triggers keep running) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what} (last: {result!r})")
        await asyncio.sleep(0.05)


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

    async def ended() -> bool:
        job = await asyncio.to_thread(hook.get_job, job_id)
        return job.status.is_terminal

    deadline = time.monotonic() + WAIT_TIMEOUT
    while not await ended():
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} did not end within {WAIT_TIMEOUT:g}s")
        await asyncio.sleep(0.05)


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
    await wait_for(f"{count} more list polls", lambda: list_polls(emulator, profile) >= target)
