"""Shared polls on every API that reads many jobs at once (triggers/batch_poller.py), over real HTTP
against the emulator: Tinybird (jobs_log), Keboola (id search), Airbyte (job list by updatedAt) and
the declarative REST adapter on Acme (``batch_*`` extras).

Costs are counted by structure: the emulator's access log between two moments the poller is between
rounds, over the jobs those rounds were for (``poll_costs``), never by wall-clock rates.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_jobs_provider.apis.keboola_story import EVENTS_PATH as KEBOOLA_EVENTS_PATH
from airflow_jobs_provider.triggers.batch_poller import BatchPoller, running_pollers
from airflow_jobs_provider.triggers.jobs import JobStatusTrigger
from airflow_jobs_provider.triggers.poll_costs import poll_costs
from tests.support.polling import apoll_until
from tests.support.trigger_store import first_event, rebuilt

AIRBYTE_CONNECTION = "9e6ad5d8-0f37-4b2c-a1f5-0c5d1f3f6a11"


@dataclass(frozen=True)
class Profile:
    api: str
    """The API's name in the emulator (its access log and control endpoint)."""
    adapter: str
    """The adapter's name (``poll_costs`` keys)."""
    conn_id: str
    spec: dict[str, Any]
    outcomes: dict[str, str]
    """Script outcome -> the trigger event's status."""


EVENTS = {"succeeded": "success", "failed": "failed", "cancelled": "cancelled"}
PROFILES = {
    "tinybird": Profile("tinybird", "tinybird", "jobs_default", {"kind": "copy", "pipe": "sales"}, EVENTS),
    "keboola": Profile(
        "keboola", "keboola", "jobs_keboola", {"component": "keboola.ex-db-snowflake", "config": "554424643"}, EVENTS
    ),
    "airbyte": Profile("airbyte", "airbyte", "jobs_airbyte", {"connectionId": AIRBYTE_CONNECTION}, EVENTS),
    "rest": Profile("acme", "rest", "jobs_acme_batched", {"task": "nightly"}, EVENTS),
}


def api_requests(live: Any, api: str) -> list[dict[str, Any]]:
    return [entry for entry in live.requests() if entry["api"] == api]


def is_story_read(path: str) -> bool:
    """A trigger reading its job's story (Keboola's events, the Acme log endpoint), not a poll."""
    route = path.split("?")[0]
    return route == KEBOOLA_EVENTS_PATH or (route.startswith("/acme/v2/runs/") and route.endswith("/log"))


def the_poller() -> BatchPoller:
    [poller] = running_pollers()
    return poller


async def between_rounds(done_at_least: int) -> BatchPoller:
    """The poller once it has finished ``done_at_least`` rounds and is not in one."""

    def idle() -> BatchPoller | None:
        pollers = running_pollers()
        if (
            len(pollers) == 1
            and pollers[0].rounds_done >= done_at_least
            and pollers[0].rounds == pollers[0].rounds_done
        ):
            return pollers[0]
        return None

    poller = await apoll_until(idle, timeout=120, interval=0.005, what=f"the poller idle after {done_at_least} rounds")
    return poller  # type: ignore[no-any-return]


def watch_all(profile: Profile, job_ids: list[str], interval: float, rebuild: Callable[[Any], Any] = lambda t: t):
    return {
        job_id: asyncio.ensure_future(
            first_event(rebuild(JobStatusTrigger(job_id=job_id, jobs_conn_id=profile.conn_id, poll_interval=interval)))
        )
        for job_id in job_ids
    }


async def stop(tasks: dict[str, asyncio.Future[Any]]) -> None:
    for task in tasks.values():
        task.cancel()
    await asyncio.gather(*tasks.values(), return_exceptions=True)
    await apoll_until(lambda: not running_pollers(), timeout=30, what="the poller to stop")


@pytest.mark.parametrize("name", sorted(PROFILES))
async def test_a_thousand_watches_cost_at_most_five_hundredths_of_a_request_per_job_per_interval(live, name):
    profile = PROFILES[name]
    running = live.create_jobs(profile.api, 900, profile.spec, ends_in=300, duration=1)
    ending = {
        outcome: live.create_jobs(profile.api, 30, profile.spec, ends_in=3, spread=4, outcome=outcome)
        for outcome in EVENTS
    }  # jobs that end while the rounds below are counted
    job_ids = running + [job_id for ids in ending.values() for job_id in ids]
    tasks = watch_all(profile, job_ids, interval=0.5)

    poller = await between_rounds(2)  # every job registered and read once
    poll_costs(reset=True)
    before, rounds_before = len(api_requests(live, profile.api)), poller.rounds_done
    poller = await between_rounds(rounds_before + 8)
    cost = poll_costs()[profile.adapter]
    window = api_requests(live, profile.api)[before:]
    sent = len(window)
    story_reads = sum(1 for entry in window if is_story_read(entry["path"]))

    per_job_per_interval = sent / cost.job_rounds  # the story's reads included: they are a watch's cost too
    print(f"\n{name}: {sent} requests ({story_reads} story reads) over {cost.rounds} rounds for "
          f"{cost.job_rounds} job-rounds: {per_job_per_interval:.4f} requests per job per interval")  # fmt: skip
    assert cost.rounds == poller.rounds_done - rounds_before >= 8
    assert per_job_per_interval <= 0.05, per_job_per_interval
    polled = sent - story_reads  # the triggers read the story, not the poller
    assert abs(polled - cost.requests) <= 2 * cost.rounds, "the poller's own count matches the access log"

    for outcome, ids in ending.items():  # wait for the ones that end; nothing else may have fired
        events = await asyncio.wait_for(asyncio.gather(*(tasks[job_id] for job_id in ids)), 60)
        assert {event["status"] for event in events} == {EVENTS[outcome]}, outcome
    assert not any(tasks[job_id].done() for job_id in running), "a running job ended early"
    await stop(tasks)


@pytest.mark.parametrize("name", sorted(PROFILES))
async def test_every_outcome_is_reported_whenever_the_job_ends(live, name):
    profile = PROFILES[name]
    ended_before = {o: live.create_jobs(profile.api, 5, profile.spec, ends_in=-5, outcome=o) for o in EVENTS}
    ending_later = {
        o: live.create_jobs(profile.api, 10, profile.spec, ends_in=1.5, spread=2, outcome=o) for o in EVENTS
    }
    running = live.create_jobs(profile.api, 10, profile.spec, ends_in=300)
    first = [job_id for ids in (*ended_before.values(), *ending_later.values()) for job_id in ids] + running
    tasks = watch_all(profile, first, interval=0.3, rebuild=rebuilt)
    await between_rounds(2)
    late = {o: live.create_jobs(profile.api, 4, profile.spec, ends_in=0.5, outcome=o) for o in EVENTS}
    tasks.update(watch_all(profile, [job_id for ids in late.values() for job_id in ids], interval=0.3))

    for groups in (ended_before, ending_later, late):
        for outcome, ids in groups.items():
            events = await asyncio.wait_for(asyncio.gather(*(tasks[job_id] for job_id in ids)), 60)
            assert [event["status"] for event in events] == [EVENTS[outcome]] * len(ids), (outcome, events[:1])
            assert [event["job_id"] for event in events] == ids
    await between_rounds(the_poller().rounds_done + 2)
    assert not any(tasks[job_id].done() for job_id in running), "a job the feed leaves out kept its state"
    await stop(tasks)


FEED_MARK = {"tinybird": "updated_at%20%3E%3D", "airbyte": "updatedAtStart=", "rest": "updated_after="}
"""What the feed's requests carry in the access log: its since parameter."""
SINGLE = {"tinybird": "/v0/jobs/", "airbyte": "/v1/jobs/", "rest": "/acme/v2/runs/"}


@pytest.mark.parametrize("offset", [-600, 600], ids=["api-behind", "api-ahead"])
@pytest.mark.parametrize("name", sorted(FEED_MARK))
async def test_a_skewed_api_clock_misses_nothing(live, name, offset):
    profile = PROFILES[name]
    live.clock(offset)  # before the jobs exist: their times are on the API's clock
    ending = {o: live.create_jobs(profile.api, 8, profile.spec, ends_in=1.5, spread=3, outcome=o) for o in EVENTS}
    running = live.create_jobs(profile.api, 8, profile.spec, ends_in=300)
    job_ids = [job_id for ids in ending.values() for job_id in ids] + running
    tasks = watch_all(profile, job_ids, interval=0.3)

    for outcome, ids in ending.items():
        events = await asyncio.wait_for(asyncio.gather(*(tasks[job_id] for job_id in ids)), 60)
        assert {event["status"] for event in events} == {EVENTS[outcome]}, outcome
    await between_rounds(the_poller().rounds_done + 2)
    assert not any(tasks[job_id].done() for job_id in running)
    await stop(tasks)
    entries = api_requests(live, profile.api)
    feeds = [entry for entry in entries if FEED_MARK[name] in entry["path"]]
    singles = [entry for entry in entries if entry["path"].startswith(SINGLE[name]) and entry["method"] == "GET"]
    assert len(feeds) >= 4, "the rounds after the first looks read the feed"
    assert len(singles) <= 2 * len(job_ids), (
        "read alone at its first look, and once more before the API's clock was known"
    )
    assert live.clock()["offset_seconds"] == offset


FEED_ROUTE = {"airbyte": ("airbyte", "jobs"), "rest": ("acme", "runs")}


@pytest.mark.parametrize("name", sorted(FEED_ROUTE))
async def test_a_failing_feed_gives_way_to_per_job_reads_and_nothing_is_missed(live, name, monkeypatch):
    profile = PROFILES[name]
    conn = json.loads(os.environ[f"AIRFLOW_CONN_{profile.conn_id.upper()}"])
    conn["extra"] = {**conn["extra"], "retry_attempts": 1}  # the feed's first error is final
    for key in ("batch_get", "batch_ids_param", "batch_size"):  # Acme's id read shares the feed's route
        conn["extra"].pop(key, None)
    monkeypatch.setenv(f"AIRFLOW_CONN_{profile.conn_id.upper()}_ONCE", json.dumps(conn))
    profile = Profile(profile.api, profile.adapter, f"{profile.conn_id}_once", profile.spec, profile.outcomes)
    ending = {o: live.create_jobs(profile.api, 6, profile.spec, ends_in=1.5, spread=2, outcome=o) for o in EVENTS}
    running = live.create_jobs(profile.api, 6, profile.spec, ends_in=300)
    tasks = watch_all(profile, [job_id for ids in ending.values() for job_id in ids] + running, interval=0.3)
    await between_rounds(1)
    api, route = FEED_ROUTE[name]
    live.faults(api, {"5xx": 1.0}, route=route, method="GET")  # every feed read fails from now on
    before = len(api_requests(live, profile.api))

    for outcome, ids in ending.items():
        events = await asyncio.wait_for(asyncio.gather(*(tasks[job_id] for job_id in ids)), 60)
        assert {event["status"] for event in events} == {EVENTS[outcome]}, outcome
    assert not any(tasks[job_id].done() for job_id in running), "a failed feed read ends no watch"
    await stop(tasks)
    failed_feeds = [entry for entry in api_requests(live, profile.api)[before:] if entry["status"] == 500]
    assert failed_feeds, "the feed was tried and failed"
