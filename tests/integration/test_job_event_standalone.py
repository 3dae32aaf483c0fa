"""JobEventTrigger without shared streams or an asset state store, as Airflow before 3.3 runs it.

The triggerer then calls ``run()``: the watcher polls on its own and keeps its cursor in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.triggers.jobs import JobEventTrigger
from tests.support.events import PROFILES, WAIT_TIMEOUT, more_polls, run_job
from tests.support.polling import apoll_until
from tests.support.trigger_store import rebuilt


@contextlib.asynccontextmanager
async def running(trigger: JobEventTrigger) -> AsyncIterator[list[dict[str, Any]]]:
    """Run the rebuilt trigger's ``run()`` in a task; the list fills with event payloads as they fire."""
    events: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in rebuilt(trigger).run():  # type: ignore[arg-type]
            events.append(event.payload)

    task = asyncio.create_task(consume())
    try:
        yield events
        if task.done():
            task.result()  # a watcher that died fails the test with its own error
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_run_polls_alone_and_keeps_the_cursor_in_memory(live, capsys):
    profile = PROFILES["tinybird"]
    old = await run_job(live, profile, profile.target)
    trigger = JobEventTrigger(filters=profile.filters, poll_interval=0.1)
    async with running(trigger) as events:
        await more_polls(live, profile, 1)
        new = await run_job(live, profile, profile.target)
        await apoll_until(lambda: events, timeout=WAIT_TIMEOUT, what="the new job")
        await more_polls(live, profile, 3)
        reported = [payload["job_id"] for payload in events]

    assert reported == [new], f"once, and not {old}"
    assert "lives in memory" in capsys.readouterr().out


async def test_without_a_store_a_restart_starts_a_new_baseline(live):
    """The documented limit before Airflow 3.3: a job that ends while no watcher runs is missed."""
    profile = PROFILES["tinybird"]
    trigger = JobEventTrigger(filters=profile.filters, poll_interval=0.1)
    async with running(trigger) as events:
        await more_polls(live, profile, 1)
    await run_job(live, profile, profile.target)  # ends while no watcher runs

    async with running(trigger) as events:
        await more_polls(live, profile, 3)
        later = await run_job(live, profile, profile.target)
        await apoll_until(lambda: events, timeout=WAIT_TIMEOUT, what="the job after the restart")
        await more_polls(live, profile, 2)

    assert [payload["job_id"] for payload in events] == [later]


async def test_airbyte_is_polled_newest_first_so_new_jobs_show_past_the_first_page(live):
    """Airbyte's default page is its 20 oldest jobs; the watcher asks for the latest updated first."""
    profile = PROFILES["airbyte"]
    live.script("airbyte", outcome="succeeded", duration=0, queue_seconds=0, times=21)
    hook = JobsHook(profile.conn_id)
    for _ in range(21):
        await asyncio.to_thread(hook.start_job, profile.target)

    trigger = JobEventTrigger(jobs_conn_id=profile.conn_id, filters=profile.filters, poll_interval=0.1)
    async with running(trigger) as events:
        await more_polls(live, profile, 1)
        new = await run_job(live, profile, profile.target)
        await apoll_until(lambda: events, timeout=WAIT_TIMEOUT, what="the 22nd job")

    assert [payload["job_id"] for payload in events] == [new]
    (poll, *_) = [entry["path"] for entry in live.requests() if entry["path"].startswith("/v1/jobs?")]
    assert "orderBy=updatedAt%7CDESC" in poll and "limit=100" in poll


async def test_keboola_is_polled_latest_finished_first(live):
    """Keboola's default page is the newest 100 ids; a job that ends late is found by its end time."""
    profile = PROFILES["keboola"]
    async with running(JobEventTrigger(jobs_conn_id=profile.conn_id, filters=profile.filters, poll_interval=0.1)):
        await more_polls(live, profile, 1)

    (poll, *_) = [entry["path"] for entry in live.requests() if entry["path"].startswith("/search/jobs?")]
    assert "sortBy=endTime" in poll and "sortOrder=desc" in poll and "limit=100" in poll
