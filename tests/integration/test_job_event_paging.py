"""Event watchers lose nothing at any rate: bursts larger than a page, and catching up after a stop.

Jobs are made in bulk through the emulator's control endpoint (``create_jobs``), ending at chosen
times, so a burst of hundreds of jobs ends within one poll interval. Each API pages its own way:
Keboola by end time, Airbyte by last update, the Acme REST API through the connection's ``list_*``
extras, Tinybird through ``tinybird.jobs_log`` once its 100-job list overflows.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_jobs_provider.triggers.job_lists import LIST_OVERLAP
from airflow_jobs_provider.triggers.jobs import JobEventTrigger
from tests.support.events import PROFILES, WAIT_TIMEOUT, more_polls, needs_asset_state_store
from tests.support.polling import apoll_until
from tests.support.triggerer import FakeSupervisor, running_triggerer, supervisor_comms

pytestmark = needs_asset_state_store
ASSET = "watched_jobs"
BURST = 250
"""Jobs that end within one poll interval: three pages of 100 (Tinybird: past its 100-job list)."""
BACKLOG = 150
"""Jobs that end while no watcher runs: more than a page."""
INTERVAL = 1.0


@pytest.fixture
def supervisor() -> Iterator[FakeSupervisor]:
    with supervisor_comms(FakeSupervisor()) as fake:
        yield fake


@pytest.fixture(autouse=True)
def quick_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(JobEventTrigger, "commit_delay", 0.2)


def watcher(api: str) -> JobEventTrigger:
    profile = PROFILES[api]
    return JobEventTrigger(jobs_conn_id=profile.conn_id, filters=profile.filters, poll_interval=INTERVAL)


def fired(events: list[tuple[int, dict[str, Any]]]) -> list[str]:
    return [payload["job_id"] for _, payload in events]


def stored(supervisor: FakeSupervisor, trigger: JobEventTrigger) -> dict[str, Any]:
    return supervisor.state.get((ASSET, trigger.cursor_key()), {})  # type: ignore[no-any-return]


async def wait_for_events(triggerer: Any, count: int) -> None:
    await apoll_until(
        lambda: len(triggerer.events_so_far()) >= count,
        timeout=WAIT_TIMEOUT * 2,
        interval=0.1,
        what=f"{count} events",
        describe=lambda _: f"{len(triggerer.events_so_far())} events",
    )


@pytest.mark.parametrize("api", sorted(PROFILES))
async def test_a_burst_of_jobs_ending_within_one_interval_fires_each_once(live, supervisor, api):
    profile = PROFILES[api]
    trigger = watcher(api)
    async with running_triggerer() as triggerer:
        await triggerer.add(1, trigger, {ASSET: ASSET})
        await apoll_until(lambda: stored(supervisor, trigger), timeout=WAIT_TIMEOUT, what="the baseline")
        other = await asyncio.to_thread(live.create_jobs, profile.emulator_api, 20, profile.other, ends_in=0.5)
        burst = await asyncio.to_thread(
            live.create_jobs, profile.emulator_api, BURST, profile.target, ends_in=0.5, spread=0.4
        )
        await wait_for_events(triggerer, BURST)
        await more_polls(live, profile, 3)
        events = triggerer.take_events()
        triggerer.raise_failures()

    counts = Counter(fired(events))
    assert set(counts) == set(burst), f"lost {len(set(burst) - set(counts))}, foreign {set(counts) - set(burst)}"
    assert max(counts.values()) == 1, f"duplicated: {[job for job, n in counts.items() if n > 1][:5]}"
    assert not set(other) & set(counts)


@pytest.mark.parametrize("api", sorted(PROFILES))
async def test_a_watcher_stopped_for_more_than_a_page_catches_up_on_restart(live, supervisor, api):
    profile = PROFILES[api]
    trigger = watcher(api)
    async with running_triggerer() as first:
        await first.add(1, trigger, {ASSET: ASSET})
        await apoll_until(lambda: stored(supervisor, trigger), timeout=WAIT_TIMEOUT, what="the baseline")
        before = await asyncio.to_thread(live.create_jobs, profile.emulator_api, 5, profile.target, ends_in=0.2)
        await wait_for_events(first, 5)
        await apoll_until(
            lambda: set(before) <= {job for job, _ in stored(supervisor, trigger)["done"]},
            timeout=WAIT_TIMEOUT,
            what="the reports to be committed",
        )
        assert sorted(fired(first.take_events())) == sorted(before)

    while_down = await asyncio.to_thread(
        live.create_jobs, profile.emulator_api, BACKLOG, profile.target, ends_in=-0.5, spread=0.4
    )
    async with running_triggerer() as second:
        await second.add(1, trigger, {ASSET: ASSET})
        await wait_for_events(second, BACKLOG)
        await more_polls(live, profile, 2)
        events = second.take_events()
        second.raise_failures()

    counts = Counter(fired(events))
    lost, repeated = set(while_down) - set(counts), set(counts) & set(before)
    assert set(counts) == set(while_down), f"lost {len(lost)}; repeated {repeated}"
    assert max(counts.values()) == 1


async def test_tinybird_reads_jobs_log_after_an_outage_longer_than_its_48_hours(live, supervisor):
    """Jobs that ended 49 h ago have left the Jobs API; a cursor from 50 h ago finds them in jobs_log."""
    profile = PROFILES["tinybird"]
    trigger = watcher("tinybird")
    long_ago = time.time() - 50 * 3600
    supervisor.state[(ASSET, trigger.cursor_key())] = {
        "version": 1, "since": long_ago - 3600, "floor": None, "done": [], "running": [], "seen_until": long_ago,
    }  # fmt: skip
    ended = await asyncio.to_thread(
        live.create_jobs, "tinybird", BACKLOG, profile.target, ends_in=-49 * 3600, spread=60
    )
    recent = await asyncio.to_thread(live.create_jobs, "tinybird", 3, profile.target, ends_in=-1)
    async with running_triggerer() as triggerer:
        await triggerer.add(1, trigger, {ASSET: ASSET})
        await wait_for_events(triggerer, BACKLOG + 3)
        await more_polls(live, profile, 2)
        events = triggerer.take_events()

    assert Counter(fired(events)) == Counter([*ended, *recent])
    by_source = Counter(payload["job"]["payload"].get("source", "jobs api") for _, payload in events)
    assert by_source["jobs_log"] >= BACKLOG, by_source
    sql = [entry["path"] for entry in live.requests() if entry["path"].startswith("/v0/sql")]
    assert sql and all("jobs_log" in path for path in sql)


async def test_requests_per_poll_stay_at_one_once_the_burst_is_read(live, supervisor):
    """After a burst, polls go back to one request: the top read starts past what was read.

    Counted by page, not by the clock: a poll that reads more than its first page asks for an
    ``offset`` past 0, however slow the machine is.
    """
    profile = PROFILES["keboola"]
    trigger = watcher("keboola")
    async with running_triggerer() as triggerer:
        await triggerer.add(1, trigger, {ASSET: ASSET})
        await apoll_until(lambda: stored(supervisor, trigger), timeout=WAIT_TIMEOUT, what="the baseline")
        await asyncio.to_thread(live.create_jobs, "keboola", BURST, profile.target, ends_in=0.3, spread=0.3)
        await wait_for_events(triggerer, BURST)
        burst_over = time.time()  # every job of the burst had ended: the events say so
        # the top read re-reads the overlap (LIST_OVERLAP, on the API's whole-second clock), then moves past it
        await apoll_until(
            lambda: top_reads_start_after(live, profile, burst_over),
            timeout=WAIT_TIMEOUT + LIST_OVERLAP,
            what="a top read that starts after the burst",
        )
        before = len(live.requests())
        await more_polls(live, profile, 4)
        window = [entry["path"] for entry in live.requests()[before:]]

    pages = [path for path in window if path.split("?")[0] == profile.list_path]
    past_first = [path for path in pages if page_offset(path) > 0]
    assert len(pages) >= 4, pages
    assert not past_first, f"{len(past_first)} of {len(pages)} list requests read past the first page: {past_first[:3]}"


def top_reads_start_after(live: Any, profile: Any, moment: float) -> bool:
    """Whether the latest list read asks only for jobs that ended after ``moment`` (``endTimeFrom``)."""
    reads = [entry["path"] for entry in live.requests() if entry["path"].split("?")[0] == profile.list_path]
    if not reads:
        return False
    since = parse_qs(urlsplit(reads[-1]).query).get("endTimeFrom", [""])[0]
    return bool(since) and datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp() > moment


def page_offset(path: str) -> int:
    query = parse_qs(urlsplit(path).query)
    return int(query.get("offset", ["0"])[0])
