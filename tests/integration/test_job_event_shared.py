"""Many watchers on one job list share one list request per interval (Airflow 3.3 shared streams).

The watchers run in Airflow's own TriggerRunner, which groups them by ``shared_stream_key()``
and runs one ``open_shared_stream`` loop per group. Each watcher filters the broadcast list
with its own ``match``, states and cursor.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from airflow_jobs_provider.triggers.jobs import JobEventTrigger
from benchmarks.event_watchers import measure
from tests.support.events import PROFILES, WAIT_TIMEOUT, list_polls, needs_asset_state_store, start_job
from tests.support.polling import apoll_until
from tests.support.triggerer import FakeSupervisor, running_triggerer, supervisor_comms

pytestmark = needs_asset_state_store
WATCHERS = 50
INTERVAL = 0.5


@pytest.fixture
def supervisor() -> Iterator[FakeSupervisor]:
    with supervisor_comms(FakeSupervisor()) as fake:
        yield fake


def pipe(number: int) -> str:
    return f"pipe_{number:02d}"


async def test_fifty_watchers_poll_once_per_interval_and_each_fires_for_its_own_pipe(live, supervisor):
    profile = PROFILES["tinybird"]
    async with running_triggerer() as triggerer:
        for number in range(WATCHERS):
            match = {"pipe_name": pipe(number)}
            watcher = JobEventTrigger(filters={"kind": "copy"}, match=match, poll_interval=INTERVAL)
            await triggerer.add(number + 1, watcher, {pipe(number): pipe(number)})
        await apoll_until(
            lambda: len(supervisor.state) == WATCHERS, timeout=WAIT_TIMEOUT, what="every watcher's baseline"
        )
        polls, started = list_polls(live, profile), time.monotonic()

        jobs = {}
        for number in range(WATCHERS):
            jobs[number + 1] = await start_job(live, profile, {"kind": "copy", "pipe": pipe(number)})
        failed = await start_job(live, profile, {"kind": "copy", "pipe": pipe(1)}, outcome="failed")
        await apoll_until(
            lambda: len(triggerer.events_so_far()) >= WATCHERS, timeout=WAIT_TIMEOUT, what="one event per watcher"
        )
        await asyncio.sleep(3 * INTERVAL)  # three more polls: nothing else fires
        intervals = (time.monotonic() - started) / INTERVAL
        requests = list_polls(live, profile) - polls
        events = triggerer.take_events()

    assert requests <= intervals + 1, f"{requests} list requests in {intervals:.1f} intervals: one poll for all"
    assert Counter(trigger_id for trigger_id, _ in events) == Counter(range(1, WATCHERS + 1)), "once per watcher"
    for trigger_id, payload in events:
        assert payload["job_id"] == jobs[trigger_id], "each watcher fires for its own pipe's job only"
        assert payload["job"]["payload"]["pipe_name"] == pipe(trigger_id - 1)
    assert failed not in {payload["job_id"] for _, payload in events}


async def test_watchers_with_different_filters_or_intervals_do_not_share(live, supervisor):
    profile = PROFILES["tinybird"]
    watchers = [
        JobEventTrigger(filters={"kind": "copy"}, poll_interval=INTERVAL),
        JobEventTrigger(filters={"kind": "copy"}, states=["FAILED"], poll_interval=INTERVAL),  # shares
        JobEventTrigger(filters={"kind": "populate"}, poll_interval=INTERVAL),
        JobEventTrigger(filters={"kind": "copy"}, poll_interval=INTERVAL * 2),
    ]
    assert len({watcher.shared_stream_key() for watcher in watchers}) == 3
    async with running_triggerer() as triggerer:
        for number, watcher in enumerate(watchers, start=1):
            await triggerer.add(number, watcher, {f"asset_{number}": f"asset_{number}"})
        await apoll_until(lambda: len(supervisor.state) == len(watchers), timeout=WAIT_TIMEOUT, what="every baseline")
        polls, started = list_polls(live, profile), time.monotonic()
        await asyncio.sleep(6 * INTERVAL)
        intervals = (time.monotonic() - started) / INTERVAL
        requests = list_polls(live, profile) - polls
        triggerer.raise_failures()

    # copy @ INTERVAL (two watchers, one poll) + populate @ INTERVAL + copy @ 2 x INTERVAL; a loaded
    # machine (two suites side by side on 2 cores) stretches each poll's period, so the floor has slack
    assert 2.5 * intervals - 3 <= requests <= 2.5 * intervals + 3, f"{requests} requests in {intervals:.1f} intervals"


def test_benchmark_fifty_watchers_shared_versus_unshared(live):
    numbers = measure(live, watchers=WATCHERS, interval=INTERVAL, intervals=4)

    assert numbers["shared"] <= 1.5, numbers
    assert numbers["unshared"] >= 0.8 * WATCHERS, numbers
    assert numbers["filter_per_watcher"] >= 0.8 * WATCHERS, numbers
