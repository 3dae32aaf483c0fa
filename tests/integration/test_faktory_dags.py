"""Faktory DAGs under dag.test() against the emulator's Faktory protocol: success, dead, unknown-after-grace."""

from __future__ import annotations

import time
from typing import Any

import pytest

from airflow_jobs_provider.emulator.connections import FAKTORY_UNKNOWN_GRACE
from airflow_jobs_provider.hooks.jobs import JobsHook
from tests.support.dagrun import run_dag

pytestmark = pytest.mark.usefixtures("airflow_db")

PROGRESS = [40]  # one step that outlasts the poll interval: every watcher sees it


def push(live: Any, outcome: str, **script: Any) -> str:
    """A tracked job pushed by someone upstream, scripted to end ``outcome``."""
    retry = script.pop("retry", 1)
    live.script("faktory", outcome=outcome, **{"queue_seconds": 0.1, "duration": 0.8, "progress": PROGRESS, **script})
    return JobsHook("jobs_faktory").start_job({"jobtype": "Upstream", "args": [], "retry": retry}).job_id


def job_lines(output: str, jid: str) -> list[str]:
    return [line for line in output.splitlines() if f"job {jid}:" in line]


def test_example_dag_watches_both_jobs_to_success_with_progress_in_the_task_log(live, capsys):
    # Pushed inside the run, and working for longer than two 1 s polls: every watcher sees it run.
    live.script("faktory", outcome="succeeded", queue_seconds=0.1, duration=2.5, progress=PROGRESS, times=2)

    result = run_dag("example_faktory")

    out = capsys.readouterr().out
    tasks = ("push_report", "watch_report", "push_publish", "watch_publish")
    assert result.task_states == dict.fromkeys(tasks, "success")
    report, publish = (result.xcom(task, "job_id") for task in ("push_report", "push_publish"))
    assert {job["id"] for job in live.jobs("faktory")} == {report, publish}
    for jid in (report, publish):
        running = [line for line in job_lines(out, jid) if "RUNNING 40%" in line]
        assert running, job_lines(out, jid)
        assert all(f"job {jid}: RUNNING 40% (raw: working): step 1 of 1" in line for line in running)
    assert result.xcom("watch_report")["raw_status"] == "success"
    assert result.xcom("watch_publish")["job_id"] == publish
    (pushed,) = [job for job in live.jobs("faktory") if job["id"] == report]
    assert pushed["attrs"]["queue"] == "reports" and pushed["attrs"]["tracked"] is True


def test_example_dag_fails_on_a_dead_job_and_stops_there(live, capsys):
    # queue_seconds is also the retry delay: the job shows "failed" for longer than a 1 s poll.
    live.script("faktory", outcome="failed", queue_seconds=1.2, duration=0.2, error="disk full")

    result = run_dag("example_faktory")

    out = capsys.readouterr().out
    assert result.task_states["push_report"] == "success"
    assert result.task_states["watch_report"] == "failed"
    assert result.task_states["watch_publish"] == "upstream_failed"
    jid = result.xcom("push_report", "job_id")
    lines = job_lines(out, jid)
    assert any("attempt failed, Faktory will retry" in line for line in lines), lines
    assert "retries exhausted" in out


def test_example_dag_fails_on_unknown_after_the_grace_period(live, capsys):
    live.script("faktory", outcome="unknown", queue_seconds=0, duration=0)

    result = run_dag("example_faktory")

    out = capsys.readouterr().out
    assert result.task_states["watch_report"] == "failed"
    assert "never enqueued" in out and "expired" in out
    assert f"grace {FAKTORY_UNKNOWN_GRACE}s" in out


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_sensor_to_success(live, mode, capsys):
    jid = push(live, "succeeded")

    result = run_dag(f"faktory_sensor_{mode}", {"job_id": jid})

    assert result.task_states == {"wait": "success"}
    assert result.xcom("wait")["status"] == "SUCCEEDED"
    assert any("SUCCEEDED (raw: success)" in line for line in job_lines(capsys.readouterr().out, jid))


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_sensor_on_a_dead_job(live, mode, capsys):
    jid = push(live, "failed", duration=0.2, retry=1)

    result = run_dag(f"faktory_sensor_{mode}", {"job_id": jid})

    assert result.task_states == {"wait": "failed"}
    assert "retries exhausted" in capsys.readouterr().out


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_sensor_on_unknown_fails_after_the_grace_counted_from_the_push(live, mode, capsys):
    """Reschedule mode pokes from a fresh hook each time: the push time in the jid is what ends the wait."""
    jid = push(live, "unknown", queue_seconds=0, duration=0)
    pushed = time.monotonic()

    result = run_dag(f"faktory_sensor_{mode}", {"job_id": jid})

    waited = time.monotonic() - pushed
    out = capsys.readouterr().out
    assert result.task_states == {"wait": "failed"}
    assert "after it was pushed" in out and "never enqueued" in out
    assert FAKTORY_UNKNOWN_GRACE <= waited < 30, "failed once the grace was over, long before the 60 s timeout"


def test_a_task_can_fail_on_the_first_failed_attempt(live, capsys):
    live.script("faktory", outcome="failed", queue_seconds=0.1, duration=0.2)

    result = run_dag("faktory_operator_strict")

    assert result.task_states == {"push_and_wait": "failed"}
    out = capsys.readouterr().out
    assert "attempt failed, Faktory will retry" in out
    (job,) = live.jobs("faktory")
    assert job["raw_status"] in ("failed", "working", "enqueued"), "the job itself was still being retried"
