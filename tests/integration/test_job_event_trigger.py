"""JobEventTrigger as the triggerer runs it, against the emulator over HTTP, for every API with a job list.

Airflow's own TriggerRunner rebuilds each watcher from its stored kwargs, injects the asset
state store and runs it through a shared stream (tests/support/triggerer.py). The store's
values live in a dict that outlives each runner, as the metadata database outlives a triggerer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_jobs_provider.triggers.jobs import JobEventTrigger
from tests.support.events import (
    PROFILES,
    WAIT_TIMEOUT,
    more_polls,
    needs_asset_state_store,
    run_job,
    start_job,
    wait_ended,
)
from tests.support.polling import apoll_until
from tests.support.triggerer import FakeSupervisor, running_triggerer, supervisor_comms

pytestmark = needs_asset_state_store
ASSET = "watched_jobs"


@pytest.fixture
def supervisor() -> Iterator[FakeSupervisor]:
    with supervisor_comms(FakeSupervisor()) as fake:
        yield fake


@pytest.fixture
def quick_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports reach the store 0.2 s after the runner took their event, instead of 2 s."""
    monkeypatch.setattr(JobEventTrigger, "commit_delay", 0.2)


def watcher(api: str, **kwargs: Any) -> JobEventTrigger:
    profile = PROFILES[api]
    return JobEventTrigger(jobs_conn_id=profile.conn_id, filters=profile.filters, poll_interval=0.1, **kwargs)


def fired(events: list[tuple[int, dict[str, Any]]]) -> list[str]:
    return [payload["job_id"] for _, payload in events]


def stored(supervisor: FakeSupervisor, trigger: JobEventTrigger, asset: str = ASSET) -> dict[str, Any]:
    return supervisor.state.get((asset, trigger.cursor_key()), {})  # type: ignore[no-any-return]


def done_ids(supervisor: FakeSupervisor, trigger: JobEventTrigger, asset: str = ASSET) -> list[str]:
    return [job_id for job_id, _ in stored(supervisor, trigger, asset).get("done", [])]


@pytest.mark.parametrize("api", sorted(PROFILES))
async def test_fires_once_per_finished_job_and_ignores_other_jobs(live, supervisor, quick_commit, api):
    profile = PROFILES[api]
    before = await run_job(live, profile, profile.target)  # finished before the watcher started
    trigger = watcher(api)
    async with running_triggerer() as triggerer:
        await triggerer.add(1, trigger, {ASSET: ASSET})
        await apoll_until(
            lambda: before in done_ids(supervisor, trigger), timeout=WAIT_TIMEOUT, what="the baseline in the store"
        )

        first = await run_job(live, profile, profile.target)
        failed = await run_job(live, profile, profile.target, outcome="failed")
        other = await run_job(live, profile, profile.other)
        second = await run_job(live, profile, profile.target)
        await more_polls(live, profile, 3)
        events = triggerer.take_events()
        assert not triggerer.failures()

    assert fired(events) == [first, second], f"not {before} (old), {failed} (failed) or {other} (other)"
    payload = events[0][1]
    assert payload["status"] == "SUCCEEDED"
    assert payload["api"] == api
    assert payload["job"]["job_id"] == first
    assert payload["job"]["status"] == "SUCCEEDED"
    assert payload["job"]["payload"], "the API's own job fields travel to the consumer DAG"


@pytest.mark.parametrize("api", sorted(PROFILES))
async def test_restart_reports_jobs_that_ended_while_down_without_repeating_any(live, supervisor, quick_commit, api):
    profile = PROFILES[api]
    trigger = watcher(api)
    async with running_triggerer() as first_triggerer:
        await first_triggerer.add(1, trigger, {ASSET: ASSET})
        await apoll_until(lambda: stored(supervisor, trigger), timeout=WAIT_TIMEOUT, what="the baseline")
        reported = await run_job(live, profile, profile.target)
        await apoll_until(
            lambda: reported in done_ids(supervisor, trigger), timeout=WAIT_TIMEOUT, what="the report to be committed"
        )
        before_restart = first_triggerer.take_events()
    assert fired(before_restart) == [reported]

    ended_while_down = await run_job(live, profile, profile.target)  # no triggerer runs now

    async with running_triggerer() as second_triggerer:
        await second_triggerer.add(1, trigger, {ASSET: ASSET})
        await apoll_until(
            second_triggerer.events_so_far, timeout=WAIT_TIMEOUT, what="the job that ended during the outage"
        )
        after_restart = await run_job(live, profile, profile.target)
        await apoll_until(
            lambda: len(second_triggerer.events_so_far()) >= 2, timeout=WAIT_TIMEOUT, what="the job after the restart"
        )
        await more_polls(live, profile, 3)
        events = second_triggerer.take_events()

    assert fired(events) == [ended_while_down, after_restart], "no gap, and the job reported before is not repeated"


async def test_a_job_seen_running_fires_once_when_it_ends(live, supervisor, quick_commit):
    profile = PROFILES["tinybird"]
    trigger = watcher("tinybird")
    async with running_triggerer() as triggerer:
        await triggerer.add(1, trigger, {ASSET: ASSET})
        await apoll_until(lambda: stored(supervisor, trigger), timeout=WAIT_TIMEOUT, what="the baseline")
        job_id = await start_job(live, profile, profile.target, duration=1.5)
        await apoll_until(
            lambda: job_id in stored(supervisor, trigger)["running"],
            timeout=WAIT_TIMEOUT,
            what="the watcher to see the job running",
        )
        assert not triggerer.events_so_far(), "a running job does not fire"
        await wait_ended(profile, job_id)
        await more_polls(live, profile, 5)
        events = triggerer.take_events()

    assert fired(events) == [job_id]
    assert job_id not in stored(supervisor, trigger)["running"]


async def test_lookback_reports_recent_jobs_that_ended_before_the_first_start(live, supervisor, quick_commit):
    profile = PROFILES["tinybird"]
    recent = await run_job(live, profile, profile.target)
    plain, looking_back = watcher("tinybird"), watcher("tinybird", lookback_seconds=3600)
    async with running_triggerer() as triggerer:
        await triggerer.add(1, plain, {"plain": "plain"})
        await triggerer.add(2, looking_back, {"looking_back": "looking_back"})
        await more_polls(live, profile, 3)
        events = triggerer.take_events()

    assert events == [(2, events[0][1])] and events[0][1]["job_id"] == recent
    assert recent in done_ids(supervisor, plain, "plain"), "without a look-back it is part of the baseline"


async def test_an_event_not_yet_committed_is_reported_again_after_a_crash(live, supervisor):
    """The documented edge: at least once. A report is committed ``commit_delay`` (2 s) after the
    runner took the event; a triggerer that dies before that may not have passed the event on."""
    profile = PROFILES["tinybird"]
    trigger = watcher("tinybird")
    async with running_triggerer() as first_triggerer:
        await first_triggerer.add(1, trigger, {ASSET: ASSET})
        await apoll_until(lambda: stored(supervisor, trigger), timeout=WAIT_TIMEOUT, what="the baseline")
        job_id = await run_job(live, profile, profile.target)
        await apoll_until(first_triggerer.events_so_far, timeout=WAIT_TIMEOUT, what="the event")
    assert job_id not in done_ids(supervisor, trigger), "stopped within commit_delay: not committed"

    async with running_triggerer() as second_triggerer:
        await second_triggerer.add(1, trigger, {ASSET: ASSET})
        await apoll_until(second_triggerer.events_so_far, timeout=WAIT_TIMEOUT, what="the job again")
        events = second_triggerer.take_events()
    assert fired(events) == [job_id]


async def test_one_trigger_on_two_assets_keeps_its_cursor_in_both(live, supervisor, quick_commit):
    profile = PROFILES["tinybird"]
    trigger = watcher("tinybird")
    assets = {"copies_a": "copies_a", "copies_b": "copies_b"}
    async with running_triggerer() as triggerer:
        await triggerer.add(1, trigger, assets)
        job_id = await run_job(live, profile, profile.target)
        await apoll_until(
            lambda: all(job_id in done_ids(supervisor, trigger, name) for name in assets),
            timeout=WAIT_TIMEOUT,
            what="the commit",
        )
    supervisor.state.pop(("copies_a", trigger.cursor_key()))  # one copy lost: the other still counts

    async with running_triggerer() as triggerer:
        await triggerer.add(1, trigger, assets)
        await more_polls(live, profile, 3)
        assert triggerer.take_events() == []
    assert job_id in done_ids(supervisor, trigger, "copies_a"), "the merged cursor is written back to both"


async def test_faktory_is_refused_with_a_clear_error(live, supervisor):
    async with running_triggerer() as triggerer:
        await triggerer.add(1, JobEventTrigger(jobs_conn_id="jobs_faktory", poll_interval=0.1), {ASSET: ASSET})
        (error,) = await apoll_until(triggerer.failures, timeout=WAIT_TIMEOUT, what="the watcher to fail")
    assert type(error).__name__ == "JobsConfigError"
    assert "no job list" in str(error)
    assert "JobSensor" in str(error)
