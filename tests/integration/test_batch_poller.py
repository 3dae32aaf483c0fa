"""Shared polls (triggers/batch_poller.py): JobStatusTriggers on Keboola read their jobs through one
``/search/jobs?id[]=…`` per round, over real HTTP against the emulator (and, for answers the emulator
never gives, against a small Keboola look-alike served here).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiohttp import web

from airflow_jobs_provider.emulator.server import http_url, start_app
from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.hooks.loop_shared import open_sessions
from airflow_jobs_provider.triggers.batch_poller import running_pollers
from airflow_jobs_provider.triggers.jobs import JobStatusTrigger
from tests.conftest import TOKEN
from tests.support.polling import apoll_until
from tests.support.trigger_store import rebuilt

CONN_ID = "jobs_keboola"
SPEC = {"component": "keboola.ex-db-snowflake", "config": "554424643"}


def start_jobs(live: Any, count: int, **script: Any) -> list[str]:
    """``count`` jobs that run side by side: each of its own configuration (Keboola runs one job of a
    configuration at a time, and the emulator's configuration lock does too)."""
    script.setdefault("queue_seconds", 0)
    live.script("keboola", times=count, **script)
    hook = JobsHook(CONN_ID)
    return [hook.start_job({**SPEC, "config": f"{SPEC['config']}{n}"}).job_id for n in range(count)]


def reads(live: Any) -> dict[str, int]:
    """Keboola requests the emulator served: searches, single job GETs, and the story's event reads."""
    entries = [entry for entry in live.requests() if entry["api"] == "keboola" and entry["method"] == "GET"]
    return {
        "searches": sum(entry["path"].startswith("/search/jobs?") for entry in entries),
        "gets": sum(entry["path"].startswith("/jobs/") for entry in entries),
        "events": sum(entry["path"].startswith("/v2/storage/events?") for entry in entries),
    }


async def watch(job_ids: list[str], interval: float = 0.2, conn_id: str = CONN_ID, **kwargs: Any) -> list[Any]:
    """One event per job, from rebuilt triggers running side by side on this loop."""

    async def first_event(job_id: str) -> dict[str, Any]:
        trigger = rebuilt(JobStatusTrigger(job_id=job_id, jobs_conn_id=conn_id, poll_interval=interval, **kwargs))
        events = [event.payload async for event in trigger.run()]
        assert len(events) == 1
        return events[0]

    return await asyncio.wait_for(asyncio.gather(*(first_event(job_id) for job_id in job_ids)), 30)


async def nothing_left_open() -> None:
    for _ in range(100):
        if not running_pollers() and not open_sessions():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"left open: pollers {running_pollers()}, sessions {open_sessions()}")


async def test_one_search_per_round_serves_every_trigger(live):
    job_ids = start_jobs(live, 30, duration=0.8)

    events = await watch(job_ids)

    assert {event["status"] for event in events} == {"success"}
    assert sorted(event["job_id"] for event in events) == sorted(job_ids)
    seen = reads(live)
    assert seen["gets"] == 0, "every job came from a shared search"
    assert 2 <= seen["searches"] <= 12, f"one search per round for all 30 jobs, saw {seen}"
    await nothing_left_open()


async def test_requests_per_job_per_interval_fall_below_five_percent(live):
    job_ids = start_jobs(live, 250, duration=30)
    tasks = [asyncio.ensure_future(watch([job_id], interval=0.5)) for job_id in job_ids]
    await asyncio.sleep(1.0)  # every trigger registered and had its first look
    before = reads(live)
    await asyncio.sleep(2.0)  # four rounds
    after = reads(live)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    per_job_per_interval = (after["searches"] - before["searches"]) / len(job_ids) / 4
    assert after["gets"] == 0
    assert per_job_per_interval <= 0.05, per_job_per_interval  # 3 pages of ≤100 ids a round: 0.012
    await nothing_left_open()


@pytest.mark.parametrize("story_interval", [None, 0.0])
async def test_story_reads_stay_off_the_batched_poll_unless_asked_for(live, story_interval):
    """100 jobs, story on, 10 shared rounds counted by search (100 ids: one page a round), not by the clock.

    By default a running job whose state does not change has its events read at the first look
    and then once per story interval (5 minutes here), so the rounds cost the searches alone;
    ``story_interval=0`` reads them at every poll, a request per job per interval.
    """
    job_ids = start_jobs(live, 100, duration=60)
    kwargs = {} if story_interval is None else {"story_interval": story_interval}
    tasks = [asyncio.ensure_future(watch([job_id], interval=0.2, **kwargs)) for job_id in job_ids]
    await apoll_until(lambda: reads(live)["events"] >= 100, timeout=30, what="every job's first story read")
    start = reads(live)["searches"]
    await apoll_until(lambda: reads(live)["searches"] >= start + 2, timeout=30, what="two more rounds")
    before = reads(live)
    after = await apoll_until(
        lambda: reads(live), lambda seen: seen["searches"] >= before["searches"] + 10, timeout=60, what="ten rounds"
    )
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    rounds = after["searches"] - before["searches"]
    spent = {key: after[key] - before[key] for key in after}
    per_job_per_interval = sum(spent.values()) / len(job_ids) / rounds
    print(f"story_interval={story_interval}: {spent} in {rounds} rounds, {per_job_per_interval:.3f}/job/interval")
    if story_interval is None:
        assert spent["events"] == 0 and spent["gets"] == 0, spent
        assert per_job_per_interval <= 0.05, per_job_per_interval  # one search of 100 ids a round: 0.01
    else:
        assert spent["events"] >= 0.8 * len(job_ids) * rounds, spent  # the old way: a read per job per poll
    await nothing_left_open()


async def test_a_job_s_events_are_read_a_few_times_in_its_life_and_all_reach_the_log(live, capsys):
    """First look, each change of state, the end: the events of 20 short jobs are all logged, once."""
    job_ids = start_jobs(live, 20, duration=2.0, queue_seconds=0.4)
    events = await watch(job_ids, interval=0.2)
    out = capsys.readouterr().out
    assert {event["status"] for event in events} == {"success"}
    seen = reads(live)
    rounds = seen["searches"]
    assert seen["events"] <= 4 * len(job_ids), seen  # first look, waiting -> processing, the end (+1 for a race)
    finished = [line for line in out.splitlines() if "finished: Component processing finished." in line]
    assert len(finished) == len(job_ids), "each job's last event, read at its end, logged once"
    with capsys.disabled():
        print(f"{seen['events']} event reads for {len(job_ids)} jobs over {rounds} rounds")
    await nothing_left_open()


async def test_cancelled_triggers_deregister_and_the_poller_stops(live):
    job_ids = start_jobs(live, 5, duration=30)
    tasks = [asyncio.ensure_future(watch([job_id])) for job_id in job_ids]
    await asyncio.sleep(0.6)
    assert len(running_pollers()) == 1
    assert sorted(running_pollers()[0].job_ids) == sorted(job_ids)

    tasks[0].cancel()
    await asyncio.sleep(0.05)
    assert sorted(running_pollers()[0].job_ids) == sorted(job_ids[1:]), "a cancelled trigger deregisters"
    for task in tasks[1:]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await nothing_left_open()
    settled = reads(live)
    await asyncio.sleep(0.5)
    assert reads(live) == settled, "no poll after the last trigger left"


async def test_triggers_created_again_register_afresh_and_see_no_stale_answer(live):
    job_ids = start_jobs(live, 3, duration=30)
    first = [asyncio.ensure_future(watch([job_id])) for job_id in job_ids]
    await asyncio.sleep(0.5)
    for task in first:  # as when the triggerer restarts or the triggers move to another triggerer
        task.cancel()
    await asyncio.gather(*first, return_exceptions=True)
    await nothing_left_open()
    for job_id in job_ids:
        live.force_state("keboola", job_id, "success")

    events = await watch(job_ids)

    assert {event["status"] for event in events} == {"success"}
    assert {event["job"]["raw_status"] for event in events} == {"success"}
    await nothing_left_open()


async def test_a_job_missing_from_the_search_is_read_alone(live):
    job_ids = start_jobs(live, 3, duration=0.5)
    live.expire("keboola", job_ids[0])  # gone from the API: not in the search, 404 on its own GET

    events = {event["job_id"]: event for event in await watch(job_ids)}

    assert events[job_ids[0]]["status"] == "error"
    assert events[job_ids[0]]["error_class"] == "JobNotFoundError"
    assert [events[job_id]["status"] for job_id in job_ids[1:]] == ["success", "success"]
    assert reads(live)["gets"] >= 1
    await nothing_left_open()


async def test_a_failing_search_fails_every_trigger_of_the_batch(live, monkeypatch):
    extra = {"api": "keboola", "retry_attempts": 2, "retry_initial_wait": 0.01}
    conn = {"conn_type": "jobs", "host": live.url, "password": TOKEN, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_JOBS_KEBOOLA_FAULTY", json.dumps(conn))
    job_ids = start_jobs(live, 4, duration=30)
    live.faults("keboola", {"5xx": 1.0}, route="search")

    events = await watch(job_ids, conn_id="jobs_keboola_faulty")

    assert {event["status"] for event in events} == {"error"}
    assert {event["error_class"] for event in events} == {"JobsUnavailableError"}
    assert all("failed 2 time(s)" in event["message"] for event in events)
    await nothing_left_open()


async def test_a_deadline_before_the_next_round_is_checked_with_a_read_at_the_deadline(live):
    [job_id] = start_jobs(live, 1, duration=30)

    [event] = await watch([job_id], interval=5.0, deadline=__import__("time").time() + 0.5)

    assert event["status"] == "timeout"
    assert reads(live)["gets"] == 1, "the read at the deadline is the trigger's own"
    await nothing_left_open()


# ------------------------------------------------------------------ answers the emulator never gives


@contextmanager
def odd_keboola(answers: dict[str, Any]) -> Iterator[str]:
    """A Keboola look-alike: ``/search/jobs`` answers with the entries of ``answers`` for the ids asked
    (a value of None leaves that id out); ``/jobs/{id}`` answers with the entry, or 404."""

    async def search(request: web.Request) -> web.Response:
        asked = request.query.getall("id[]", [])
        return web.json_response([answers[job_id] for job_id in asked if answers.get(job_id) is not None])

    async def single(request: web.Request) -> web.Response:
        job_id = request.match_info["job_id"]
        entry = answers.get(job_id) or {"id": job_id, "status": "success", "isFinished": True}
        return web.json_response(entry)

    app = web.Application()
    app.router.add_get("/search/jobs", search)
    app.router.add_get("/jobs/{job_id}", single)
    loop = asyncio.new_event_loop()
    ready, where = threading.Event(), {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        runner, port = loop.run_until_complete(start_app(app, "127.0.0.1", 0))
        where["url"] = http_url("127.0.0.1", port)
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="odd-keboola", daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield where["url"]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.fixture
def odd_conn(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    answers: dict[str, Any] = {}
    with odd_keboola(answers) as url:
        conn = {"conn_type": "jobs", "host": url, "password": TOKEN, "extra": {"api": "keboola"}}
        monkeypatch.setenv("AIRFLOW_CONN_JOBS_ODD_KEBOOLA", json.dumps(conn))
        yield answers


async def test_an_entry_that_cannot_be_read_fails_only_its_own_trigger(odd_conn):
    odd_conn.update({
        "1": {"id": "1", "status": "success", "isFinished": True},
        "2": {"id": "2", "isFinished": True},  # no status: this job's answer is broken, not the batch
        "3": None,  # left out of the search: read alone, where it has ended
    })  # fmt: skip

    events = {event["job_id"]: event for event in await watch(["1", "2", "3"], conn_id="jobs_odd_keboola")}

    assert events["1"]["status"] == "success"
    assert events["2"]["status"] == "error"
    assert "has no 'status' string" in events["2"]["message"]
    assert events["3"]["status"] == "success"
    await nothing_left_open()
