"""Soak: 1,000 jobs started and watched through a faulty network, every answer checked.

Every API (Tinybird, Keboola, Airbyte, the declarative REST adapter on Acme, Faktory over TCP)
gets 20% 5xx, 5% 429 (Retry-After 0.2 s), 5% connection resets, 2% stalls past the client's
timeout and 1% garbage bodies (Faktory: the TCP equivalents). Half the jobs are watched the poke
way (the sync hook in worker threads, JobSensor.poke), half the trigger way (JobStatusTrigger on
one event loop). A kill group of 100 long jobs is watched and then killed the way Airflow kills
a task (TriggerJobOperator.on_kill, JobStatusTrigger.on_kill).

Checked against the emulator (it runs in its own process, with its own core):
- every outcome the provider reported is the one the emulator's script gave the job;
- no job started twice (one job per start marker): an uncertain start is looked for by the API's
  filters and carried on with when found, sent again once only when no job showed up, and reported
  ambiguous (JobStartUncertainError) otherwise;
- no job is left running: every killed task's job is cancelled;
- retries are bounded in count and time and wait at least Retry-After (client events and the
  emulator's access log agree).

The report is printed and written to ``soak.json`` in the test's tmp dir.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from airflow_jobs_provider.apis.job import JobStatus
from airflow_jobs_provider.emulator import EmulatorServer
from airflow_jobs_provider.exceptions import (
    JobCancelledError,
    JobFailedError,
    JobsError,
    JobStartUncertainError,
)
from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor
from airflow_jobs_provider.triggers.jobs import JobStatusTrigger
from tests.soak.emulator_process import emulator_process
from tests.soak.ledger import JobRun, Report, recording_retries
from tests.soak.plan import (
    APIS,
    EXPECTED,
    HTTP_RATES,
    POLICY_EXTRAS,
    RETRY_AFTER,
    STALL_SECONDS,
    TCP_RATES,
    marker_for,
)
from tests.support.airflow_versions import once_on_latest_airflow
from tests.support.polling import poll_until

pytestmark = [pytest.mark.soak, once_on_latest_airflow]

TOKEN = "soak-token-7d2e"
SEED = 20260
JOBS = 1000
KILLED_PER_API = 25
POLL = 0.1
CONCURRENCY = 160
SHARED_PATHS = {("POST", "/jobs"), ("POST", "/v1/jobs"), ("POST", "/acme/v2/runs"), ("POST", "/v1/applications/token")}
"""Start and token endpoints every job shares: their log entries cannot be told apart per request."""
SHARED_START = re.compile(r"/v0/pipes/[^/]+/(copy|sink|nodes/[^/]+/population)|/v0/datasources")
"""Tinybird's starts: every job of one pipe posts to the same path, so they cannot be told apart either."""
EVENT_OUTCOME = {"success": "SUCCEEDED", "failed": "FAILED", "cancelled": "CANCELLED"}


@pytest.fixture
def soak_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    with emulator_process(TOKEN) as emulator:
        for api in APIS:
            monkeypatch.setenv(
                f"AIRFLOW_CONN_{api.conn_id.upper()}", api.connection(emulator.url, emulator.faktory_url, TOKEN)
            )
        yield emulator


def plan(rng: random.Random, run: str) -> tuple[list[JobRun], list[JobRun]]:
    """The kill group (long jobs, killed mid-watch) and the main group; ways alternate."""
    killed: list[JobRun] = []
    main: list[JobRun] = []
    n = 0
    for api in [api for api in APIS if api.killable]:
        for _ in range(KILLED_PER_API):
            marker = marker_for(api, n, run)
            way = "poke" if n % 2 else "trigger"
            killed.append(JobRun(api, n, way, marker, api.spec(marker, n), kill_after=rng.uniform(0.4, 2.0)))
            n += 1
    while n < JOBS:
        api = APIS[n % len(APIS)]
        marker = marker_for(api, n, run)
        main.append(JobRun(api, n, "poke" if n % 2 else "trigger", marker, api.spec(marker, n)))
        n += 1
    return killed, main


def script_the_main_group(emulator: EmulatorServer, main: list[JobRun], rng: random.Random) -> None:
    """One queued script per start, in small runs of identical scripts, outcomes mixed per API."""
    for api in APIS:
        left = sum(1 for job in main if job.api is api)
        while left:
            times = min(left, rng.randint(1, 6))
            outcome = rng.choices(api.outcomes, weights=(60, 25, 15)[: len(api.outcomes)])[0]
            emulator.script(
                api.name,
                outcome=outcome,
                queue_seconds=round(rng.uniform(0.1, 0.3), 3),
                duration=round(rng.uniform(0.4, 1.2), 3),
                error="soak: scripted failure",
                times=times,
            )
            left -= times


async def start(job: JobRun) -> None:
    """Start as TriggerJobOperator does (JobsHook.start): an uncertain start is resolved by looking."""
    conn_id = job.api.conn_id
    try:
        if job.way == "poke":
            outcome = await asyncio.to_thread(JobsHook(conn_id).start, job.spec)
        else:
            async with JobsHook(conn_id) as hook:
                outcome = await hook.astart(job.spec)
        job.job_id = outcome.job.job_id
        job.start = "ok" if not outcome.uncertain else outcome.how  # "found" or "resent"
    except JobStartUncertainError:
        job.start = "ambiguous"  # not resolved: find out whether the job exists, as the error says
        found = await asyncio.to_thread(job.api.find, JobsHook(conn_id), job.marker, job.spec)
        job.recovered = bool(found)
        job.job_id = found[0].job_id if found else None
    except JobsError as error:
        job.start = f"error: {type(error).__name__}: {error}"


async def poke_until_done(job: JobRun) -> str:
    assert job.job_id is not None
    sensor = JobSensor(task_id=f"soak_{job.n}", job_id=job.job_id, jobs_conn_id=job.api.conn_id, poke_interval=POLL)
    while True:
        try:
            if await asyncio.to_thread(sensor.poke, {}):
                return JobStatus.SUCCEEDED.value
        except JobFailedError:
            return JobStatus.FAILED.value
        except JobCancelledError:
            return JobStatus.CANCELLED.value
        except JobsError as error:
            return f"error: {type(error).__name__}: {error}"
        await asyncio.sleep(POLL)


async def trigger_until_done(trigger: JobStatusTrigger) -> str:
    events = [event.payload async for event in trigger.run()]
    assert len(events) == 1, events
    (event,) = events
    return EVENT_OUTCOME.get(event["status"]) or f"{event['status']}: {event.get('message')}"


async def watch(job: JobRun) -> None:
    if job.job_id is None:
        return
    if job.kill_after is None:
        if job.way == "poke":
            job.reported = await poke_until_done(job)
        else:
            trigger = JobStatusTrigger(job_id=job.job_id, jobs_conn_id=job.api.conn_id, poll_interval=POLL)
            job.reported = await trigger_until_done(trigger)
        return
    await watch_then_kill(job)


async def watch_then_kill(job: JobRun) -> None:
    """Watch until ``kill_after``, then kill the task the way Airflow does for each wait style."""
    assert job.job_id is not None and job.kill_after is not None
    trigger = JobStatusTrigger(job_id=job.job_id, jobs_conn_id=job.api.conn_id, poll_interval=POLL)
    watching = asyncio.ensure_future(poke_until_done(job) if job.way == "poke" else trigger_until_done(trigger))
    done, _ = await asyncio.wait({watching}, timeout=job.kill_after)
    if done:
        job.reported = f"ended before the kill: {watching.result()}"
        return
    watching.cancel()
    job.reported = "killed"
    try:
        if job.way == "poke":  # a worker task killed: the operator's on_kill cancels (errors are logged)
            operator = TriggerJobOperator(task_id=f"soak_{job.n}", job=job.spec, jobs_conn_id=job.api.conn_id)
            operator.started_job_id = job.job_id
            await asyncio.to_thread(operator.on_kill)
        else:  # a deferred task killed: the triggerer cancels the trigger, then awaits its on_kill
            await trigger.on_kill()
        job.cancel = "requested"
    except JobsError as error:
        job.cancel = f"error: {type(error).__name__}: {error}"


async def one(job: JobRun, slots: asyncio.Semaphore) -> None:
    async with slots:
        await start(job)
        await watch(job)


async def soak(emulator: EmulatorServer, rng: random.Random, run: str) -> list[JobRun]:
    killed, main = plan(rng, run)
    for api in APIS:
        rates = TCP_RATES if api.name == "faktory" else HTTP_RATES
        emulator.faults(api.name, rates, seed=SEED, retry_after=RETRY_AFTER, stall_seconds=STALL_SECONDS)
        if api.killable:  # the kill group's jobs outlive their watch
            emulator.set_defaults(api.name, outcome="succeeded", queue_seconds=0.05, duration=120)
    slots = asyncio.Semaphore(CONCURRENCY)
    await asyncio.gather(*(start(job) for job in killed))  # every kill-group job exists before scripts queue up
    kill_group = asyncio.gather(*(watch(job) for job in killed))
    script_the_main_group(emulator, main, rng)
    await asyncio.gather(*(one(job, slots) for job in main))
    await kill_group
    return killed + main


def settled_jobs(emulator: EmulatorServer, timeout: float = 20.0) -> dict[str, list[dict[str, Any]]]:
    """The emulator's jobs per API once none is queued or working any more (cancelling ends in 0.3 s)."""
    state_maps = {api.name: JobsHook(api.conn_id).api.state_map for api in APIS}

    def running(jobs: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, str]]:
        return [
            (name, job["id"], job["raw_status"])
            for name, listed in jobs.items()
            for job in listed
            if not state_maps[name].resolve(job["raw_status"], job["id"]).is_terminal
        ]

    return poll_until(
        lambda: {api.name: emulator.jobs(api.name) for api in APIS},
        lambda jobs: not running(jobs),
        timeout=timeout,
        interval=0.2,
        what="every job to end",
        describe=lambda jobs: f"jobs left running: {running(jobs)[:10]} ({len(running(jobs))} in all)",
    )


def access_log_checks(entries: list[dict[str, Any]]) -> tuple[int, float | None]:
    """The emulator's view: the most attempts in a row for one request, and the smallest
    (gap after a Retry-After answer) - Retry-After."""
    by_request: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        key = (entry["method"], entry["path"].split("?", 1)[0] if entry["method"] == "POST" else entry["path"])
        if key not in SHARED_PATHS and not (key[0] == "POST" and SHARED_START.fullmatch(key[1])):
            by_request[key].append(entry)
    longest, margin = 0, None
    for logged in by_request.values():
        seen = sorted(logged, key=lambda entry: entry["time"])  # logged when answered: a stall is logged late
        run = 0
        for before, after in zip([None, *seen], seen, strict=False):
            run = run + 1 if before is not None and before["fault"] else 1
            longest = max(longest, run)
            if before is not None and (before["status"] == 429 or before["status"] == 503):
                gap = after["time"] - before["time"] - RETRY_AFTER
                margin = gap if margin is None else min(margin, gap)
    return longest, margin


async def test_a_thousand_jobs_through_faults(soak_emulator: EmulatorServer, tmp_path: Any, capsys: Any) -> None:
    emulator = soak_emulator
    rng = random.Random(SEED)
    run = f"{rng.getrandbits(24):06x}"
    loop = asyncio.get_running_loop()
    began = time.monotonic()
    with recording_retries() as retries, ThreadPoolExecutor(48, thread_name_prefix="soak-worker") as workers:
        loop.set_default_executor(workers)
        jobs = await soak(emulator, rng, run)
        emulator_jobs = await asyncio.to_thread(settled_jobs, emulator)
    wall = time.monotonic() - began
    entries = emulator.requests()
    stats = emulator.fault_stats()["injected"]
    faktory_commands = len(emulator.faktory()["commands"])

    report = Report(jobs=len(jobs), wall_seconds=wall, retries=len(retries.events))
    report.by_way = Counter(job.way for job in jobs)
    report.attempts = len(entries) + faktory_commands
    report.faktory_commands = faktory_commands
    report.faults = dict(sum((Counter(kinds) for kinds in stats.values()), Counter()))
    report.outcomes = Counter(job.reported.split(":")[0] for job in jobs if job.reported)
    report.uncertain_starts = sum(1 for job in jobs if job.start in ("found", "resent", "ambiguous"))
    report.uncertain_found = sum(1 for job in jobs if job.start == "found")
    report.uncertain_resent = sum(1 for job in jobs if job.start == "resent")
    report.uncertain_ambiguous = sum(1 for job in jobs if job.start == "ambiguous")
    report.ambiguous_with_job = sum(1 for job in jobs if job.recovered is True)
    report.killed = sum(1 for job in jobs if job.reported == "killed")
    report.jobs_on_emulator = sum(len(listed) for listed in emulator_jobs.values())
    report.max_attempts_one_request = max((event.attempt for event in retries.events), default=0) + 1
    report.max_retry_seconds = max((event.elapsed + event.wait for event in retries.events), default=0.0)
    waits = [event.wait - event.retry_after for event in retries.events if event.retry_after is not None]
    report.min_wait_over_retry_after = min(waits, default=None)
    (tmp_path / "soak.json").write_text(json.dumps(report.to_json(), indent=2))
    with capsys.disabled():
        print(f"\n{report.table()}\n  written to {tmp_path / 'soak.json'}")

    # -- every start worked, or was uncertain and then resolved (found, or resent once), or stayed ambiguous
    failed_starts = [(job.marker, job.start) for job in jobs if job.start not in ("ok", "found", "resent", "ambiguous")]
    assert not failed_starts, failed_starts[:5]
    assert report.uncertain_found and report.uncertain_resent, "both ways of resolving must occur"
    assert report.uncertain_ambiguous <= 0.1 * report.uncertain_starts, "most uncertain starts are resolved"

    # -- no job started twice: one emulator job per start marker, and each belongs to a start we made
    for api in APIS:
        markers = Counter(api.marker_of(listed) for listed in emulator_jobs[api.name])
        twice = [marker for marker, count in markers.items() if count > 1]
        assert not twice, f"{api.label}: started twice: {twice[:5]}"
        started = {api.shown_as(job.marker) for job in jobs if job.api is api}
        assert set(markers) <= started, f"{api.label}: jobs nobody started: {list(set(markers) - started)[:5]}"
        ours = {job.job_id for job in jobs if job.api is api and job.job_id}
        assert ours == {listed["id"] for listed in emulator_jobs[api.name]}, f"{api.label}: job ids disagree"

    # -- every reported outcome is the one the emulator's script gave the job
    scripts = {listed["id"]: listed for listed in (job for api in APIS for job in emulator_jobs[api.name])}
    wrong = []
    for job in jobs:
        if job.job_id is None or job.kill_after is not None:
            continue
        expected = EXPECTED[scripts[job.job_id]["script"]["outcome"]].value
        if job.reported != expected:
            wrong.append((job.api.label, job.way, job.job_id, expected, job.reported))
    assert not wrong, f"{len(wrong)} wrong outcome(s): {wrong[:5]}"

    # -- no job left running after its task was killed
    for job in jobs:
        if job.reported == "killed":
            assert job.cancel == "requested", (job.marker, job.cancel)
            state = JobsHook(job.api.conn_id).api.state_map.resolve(scripts[job.job_id]["raw_status"], "x")
            assert state is JobStatus.CANCELLED, (job.api.label, job.job_id, scripts[job.job_id]["raw_status"])
    assert report.killed >= 0.8 * KILLED_PER_API * sum(api.killable for api in APIS)

    # -- retries bounded in count and time; waits honour Retry-After (client and server agree)
    limit = POLICY_EXTRAS["retry_attempts"]
    assert report.max_attempts_one_request <= limit
    assert report.max_retry_seconds <= POLICY_EXTRAS["retry_max_seconds"]
    assert report.min_wait_over_retry_after is not None and report.min_wait_over_retry_after >= 0
    longest, margin = access_log_checks(entries)
    assert longest <= limit, f"the emulator saw {longest} attempts of one request in a row"
    assert margin is not None and margin >= -0.02, f"a retry came {-margin:.3f}s before Retry-After allowed"
    for kind in [*HTTP_RATES, *TCP_RATES]:
        assert report.faults.get(kind), f"no {kind} fault was injected"
