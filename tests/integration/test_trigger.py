"""JobStatusTrigger as the triggerer runs it: from serialized kwargs, on one loop, over real HTTP."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from airflow_jobs_provider.triggers.jobs import JobStatusTrigger
from tests.support.airflow_versions import needs_trigger_on_kill, only_airflow_2
from tests.support.jobs import start_tinybird_job
from tests.support.trigger_store import first_event, rebuilt


def test_kwargs_are_plain_json_without_the_token(live):
    from tests.conftest import TOKEN

    trigger = JobStatusTrigger(job_id="j1", poll_interval=5, deadline=123.0, status_overrides={"x": "FAILED"})
    _, kwargs = rebuilt(trigger).serialize()
    assert kwargs == {
        "job_id": "j1",
        "jobs_conn_id": "jobs_default",
        "poll_interval": 5.0,
        "deadline": 123.0,
        "status_overrides": {"x": "FAILED"},
        "cancel_on_kill": True,
        "deadline_source": None,
    }
    assert TOKEN not in repr(kwargs)


async def test_watches_to_success_with_one_session_and_logs_each_progress_once(live, mocker, capsys):
    job_id = start_tinybird_job(live, "succeeded", duration=1.0, progress=[25, 50, 75])
    sessions = mocker.spy(aiohttp.ClientSession, "__init__")
    event = await first_event(rebuilt(JobStatusTrigger(job_id=job_id, poll_interval=0.05)))

    assert event["status"] == "success"
    assert event["job"]["status"] == "SUCCEEDED"
    assert sessions.call_count == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if f"job {job_id}:" in line]
    assert len(lines) == len(set(lines)), "each progress change is logged once"
    assert any("RUNNING 50%" in line for line in lines), lines
    peers = {entry["peer"] for entry in live.requests() if job_id in entry["path"] and entry["method"] == "GET"}
    assert len(peers) == 1, f"one TCP connection for the trigger's life, saw {peers}"


@pytest.mark.parametrize(("outcome", "kind"), [("failed", "failed"), ("cancelled", "cancelled")])
async def test_failed_and_cancelled_jobs_fire_their_own_event(live, outcome, kind):
    job_id = start_tinybird_job(live, outcome, error="division by zero in node X")

    event = await first_event(rebuilt(JobStatusTrigger(job_id=job_id, poll_interval=0.05)))

    assert event["status"] == kind
    if kind == "failed":
        assert "division by zero in node X" in event["message"]


async def test_deadline_fires_timeout_after_polling(live):
    job_id = start_tinybird_job(live, "succeeded", duration=30)

    event = await first_event(rebuilt(JobStatusTrigger(job_id=job_id, poll_interval=0.05, deadline=time.time() + 0.3)))

    assert event["status"] == "timeout"
    assert event["job"]["status"] in ("PENDING", "RUNNING")


async def test_job_ending_at_the_deadline_is_reported_done(live):
    job_id = start_tinybird_job(live, "succeeded", duration=0.1, queue_seconds=0)
    await asyncio.sleep(0.3)

    event = await first_event(rebuilt(JobStatusTrigger(job_id=job_id, poll_interval=1, deadline=time.time() - 1)))

    assert event["status"] == "success"


async def test_unknown_job_fires_an_error_event_that_names_the_way_out(live):
    event = await first_event(rebuilt(JobStatusTrigger(job_id="nope-404", poll_interval=0.05)))

    assert event["status"] == "error"
    assert "nope-404" in event["message"]
    assert "check the job id" in event["message"]


async def test_on_kill_cancels_the_job(live):
    job_id = start_tinybird_job(live, "succeeded", queue_seconds=30)

    await JobStatusTrigger(job_id=job_id).on_kill()

    (job,) = [j for j in live.jobs("tinybird") if j["id"] == job_id]
    assert job["raw_status"] == "cancelled"


@needs_trigger_on_kill
def test_the_triggerer_calls_our_on_kill():
    """Airflow 3.3's triggerer calls BaseTrigger.on_kill on mark failed/success or clear; ours overrides it."""
    from airflow.triggers.base import BaseTrigger

    assert JobStatusTrigger.on_kill is not BaseTrigger.on_kill
    assert asyncio.iscoroutinefunction(BaseTrigger.on_kill), "the triggerer awaits it"


@only_airflow_2
def test_before_3_3_nothing_calls_on_kill():
    """Airflow 2.11's BaseTrigger has no on_kill: killing a deferred task leaves the job running."""
    from airflow.triggers.base import BaseTrigger

    assert not hasattr(BaseTrigger, "on_kill")


async def test_no_blocking_io_on_the_event_loop(live, no_blocking_io):
    """requests, time.sleep and the sync connection lookup are forbidden inside the loop."""
    job_id = start_tinybird_job(live, "succeeded", duration=0.5, progress=[50])
    with no_blocking_io() as slow:
        event = await first_event(rebuilt(JobStatusTrigger(job_id=job_id, poll_interval=0.05)))

    assert event["status"] == "success"
    assert not [line for line in slow if "took" in line], slow
