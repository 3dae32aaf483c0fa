"""JobStatusTrigger on a Faktory connection, as the triggerer runs it: rebuilt from its kwargs, on one loop."""

from __future__ import annotations

import select
import socket
import time
from typing import Any

import pytest

from airflow_jobs_provider.exceptions import JobsApiError
from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.triggers.jobs import JobStatusTrigger
from tests.support.trigger_store import first_event, rebuilt


def push(live: Any, outcome: str, retry: int = 1, **script: Any) -> str:
    live.script("faktory", outcome=outcome, **{"queue_seconds": 0.05, "duration": 0.6, **script})
    return JobsHook("jobs_faktory").start_job({"jobtype": "Report", "args": [], "retry": retry}).job_id


def trigger(jid: str, **kwargs: Any) -> JobStatusTrigger:
    return rebuilt(JobStatusTrigger(job_id=jid, jobs_conn_id="jobs_faktory", poll_interval=0.05, **kwargs))


def lines_about(output: str, jid: str) -> list[str]:
    return [line for line in output.splitlines() if f"job {jid}:" in line]


async def test_watches_to_success_on_one_connection_logging_each_progress_step_once(live, capsys):
    jid = push(live, "succeeded", duration=0.8, progress=[40, 80])
    connects_before = live.faktory()["connections"]

    event = await first_event(trigger(jid))

    assert event["status"] == "success"
    assert event["job"]["raw_status"] == "success"
    lines = lines_about(capsys.readouterr().out, jid)
    assert len(lines) == len(set(lines)), "each change is logged once"
    assert any(f"job {jid}: RUNNING 40% (raw: working): step 1 of 2" in line for line in lines), lines
    assert any("RUNNING 80%" in line for line in lines), lines
    watchers = {entry["peer"] for entry in live.faktory()["commands"] if entry["jid"] == jid} - {_pusher(live, jid)}
    assert len(watchers) == 1, f"one TCP connection for the trigger's life, saw {watchers}"
    assert live.faktory()["connections"] - connects_before == 1, "the emulator accepted exactly one connect"


def _pusher(live: Any, jid: str) -> str:
    (push_entry,) = [entry for entry in live.faktory()["commands"] if entry["jid"] == jid and entry["verb"] == "PUSH"]
    return str(push_entry["peer"])


async def test_a_dead_job_fires_failed_after_logging_the_failed_attempts(live, capsys):
    jid = push(live, "failed", retry=1, duration=0.1)

    event = await first_event(trigger(jid))

    assert event["status"] == "failed"
    assert "retries exhausted" in event["message"]
    lines = lines_about(capsys.readouterr().out, jid)
    assert any("RUNNING (raw: failed): attempt failed, Faktory will retry" in line for line in lines), lines


async def test_unknown_fires_failed_once_the_grace_counted_from_the_push_is_over(live):
    jid = push(live, "unknown", queue_seconds=0, duration=0)
    began = time.monotonic()

    event = await first_event(trigger(jid))

    assert event["status"] == "failed"
    assert event["job"]["raw_status"] == "unknown"
    assert "never enqueued" in event["message"]
    assert 1.0 < time.monotonic() - began < 10, "waited out the grace (2 s from the push), no more"


async def test_open_source_faktory_fires_an_error_that_keeps_its_class(live):
    live.faktory(enterprise=False)

    event = await first_event(trigger("some-jid-1"))

    assert event["status"] == "error"
    assert event["error_class"] == "JobsConfigError"
    assert "Enterprise" in event["message"]


async def test_on_kill_cannot_stop_the_job_and_says_why(live):
    jid = push(live, "succeeded", queue_seconds=0.05, duration=0.3)

    with pytest.raises(JobsApiError, match="no command that stops a job"):
        await trigger(jid, cancel_on_kill=True).on_kill()  # the triggerer logs this and moves on

    event = await first_event(trigger(jid))
    assert event["status"] == "success", "the job was left alone"


async def test_no_blocking_io_on_the_event_loop(live, no_blocking_io):
    """Sockets, select, time.sleep, requests and the sync connection lookup are forbidden inside the loop."""
    jid = push(live, "succeeded", duration=0.5, progress=[50])
    with no_blocking_io((socket, "create_connection"), (select, "select")) as slow:
        event = await first_event(trigger(jid))

    assert event["status"] == "success"
    assert not [line for line in slow if "took" in line], slow
