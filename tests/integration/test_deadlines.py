"""A deferred watch honours the task's execution_timeout, which the triggerer itself does not apply.

The trigger's deadline is the earliest of the task's own timeout and its start plus
execution_timeout; when execution_timeout fired, the task fails as a timed-out task
(AirflowTaskTimeout) and cancels the job where the task says so.
"""

from __future__ import annotations

import time

import pytest

from tests.support.dagrun import run_dag
from tests.support.jobs import jobs_on, start_tinybird_job

pytestmark = pytest.mark.usefixtures("airflow_db")
LONG = {"outcome": "succeeded", "queue_seconds": 30}  # a Tinybird job that waits: it can be cancelled


def test_operator_fails_as_a_timeout_and_cancels_the_job(live, capsys):
    live.script("tinybird", **LONG)
    began = time.monotonic()

    result = run_dag("deferred_operator_execution_timeout")

    (job,) = jobs_on(live)
    assert result.task_states == {"run_job": "failed"}
    assert job["raw_status"] == "cancelled", f"the job outlived its task: {job}"
    assert time.monotonic() - began < 20, "the watch ended at execution_timeout, not at the job's end"
    out = capsys.readouterr().out
    assert "AirflowTaskTimeout" in out
    assert "execution_timeout (1.5s) passed while the triggerer watched the job" in out
    assert "the job was cancelled" in out
    assert out.count(f"Cancelled job {job['id']}") == 1, "cancelled once, not again by on_kill"
    assert result.xcom("run_job", "job_id") == job["id"]


def test_operator_with_cancel_on_kill_off_leaves_the_job(live, capsys):
    live.script("tinybird", **LONG)

    result = run_dag("deferred_operator_execution_timeout_keeps_job")

    (job,) = jobs_on(live)
    assert result.task_states == {"run_job": "failed"}
    assert not job["cancel_requested"]
    assert "cancel_on_kill=False" in capsys.readouterr().out


def test_an_earlier_own_timeout_keeps_its_own_error(live, capsys):
    live.script("tinybird", **LONG)

    result = run_dag("deferred_operator_own_timeout_first")

    (job,) = jobs_on(live)
    assert result.task_states == {"run_job": "failed"}
    assert job["raw_status"] == "cancelled"
    out = capsys.readouterr().out
    assert "waited 0.5s" in out
    assert "execution_timeout (1.5s) passed" not in out


@pytest.mark.parametrize(("dag_id", "cancelled"), [
    ("deferred_sensor_execution_timeout", True),
    ("deferred_sensor_execution_timeout_keeps_job", False),
])
def test_sensor_fails_as_a_timeout_and_cancels_when_told(live, capsys, dag_id, cancelled):
    job_id = start_tinybird_job(live, **LONG)

    result = run_dag(dag_id, {"job_id": job_id})

    (job,) = jobs_on(live)
    assert result.task_states == {"wait": "failed"}
    assert (job["raw_status"] == "cancelled") is cancelled
    assert job["cancel_requested"] is cancelled
    out = capsys.readouterr().out
    assert "AirflowTaskTimeout" in out
    assert "execution_timeout (1.5s) passed while the triggerer watched the job" in out
    assert ("the job was cancelled" if cancelled else "cancel_on_timeout=False") in out
