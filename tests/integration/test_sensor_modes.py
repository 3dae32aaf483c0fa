"""A DAG author's view: the same job outcome gives the same task outcome in every wait mode."""

from __future__ import annotations

import pytest

from airflow_jobs_provider.triggers.jobs import JobStatusTrigger
from tests.support.dagrun import run_dag
from tests.support.jobs import SLOW_START, start_tinybird_job

MODES = ["poke", "reschedule", "deferrable"]
pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.mark.parametrize("mode", MODES)
def test_done_job_succeeds_and_its_final_state_is_the_xcom(live, mode, mocker):
    duration = SLOW_START if mode == "deferrable" else 0.6  # still running at the first poke
    job_id = start_tinybird_job(live, "succeeded", progress=[30, 60], duration=duration)
    trigger_runs = mocker.spy(JobStatusTrigger, "run")

    result = run_dag(f"sensor_{mode}", {"job_id": job_id})

    assert trigger_runs.call_count == (1 if mode == "deferrable" else 0), "deferrable really defers"

    assert result.task_states == {"wait": "success"}
    final = result.xcom("wait")
    assert final["job_id"] == job_id
    assert final["status"] == "SUCCEEDED"
    assert final["raw_status"] == "done"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("outcome", ["failed", "cancelled", "weird"])
def test_failed_cancelled_or_unknown_job_fails_the_task(live, mode, outcome, capsys):
    job_id = start_tinybird_job(live, outcome, error="disk full on node 7")

    result = run_dag(f"sensor_{mode}", {"job_id": job_id})

    assert result.task_states == {"wait": "failed"}
    assert result.xcom("wait") is None
    log = capsys.readouterr().out
    expected = {
        "failed": f"JobFailedError: job {job_id} failed: disk full on node 7",
        "cancelled": f"JobCancelledError: job {job_id} was cancelled",
        "weird": "UnknownJobStateError",
    }[outcome]
    assert expected in log


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("outcome", ["failed", "cancelled"])
def test_soft_fail_skips_on_failed_or_cancelled_job(live, mode, outcome):
    job_id = start_tinybird_job(live, outcome)

    result = run_dag(f"sensor_{mode}_soft_fail", {"job_id": job_id})

    assert result.task_states == {"wait": "skipped"}


@pytest.mark.parametrize("mode", MODES)
def test_status_overrides_turn_an_unknown_raw_state_into_success(live, mode):
    job_id = start_tinybird_job(live, "weird")

    result = run_dag(f"sensor_{mode}_weird_is_done", {"job_id": job_id})

    assert result.task_states == {"wait": "success"}
    assert result.xcom("wait")["raw_status"] == "weird"


@pytest.mark.parametrize("mode", MODES)
def test_sensor_times_out_on_a_job_that_runs_too_long(live, mode):
    job_id = start_tinybird_job(live, "succeeded", duration=30)

    result = run_dag(f"sensor_{mode}_times_out", {"job_id": job_id})

    assert result.task_states == {"wait": "failed"}


@pytest.mark.parametrize("mode", MODES)
def test_missing_job_id_fails_with_a_clear_error(live, mode):
    result = run_dag(f"sensor_{mode}", {"job_id": "no-such-job"})

    assert result.task_states == {"wait": "failed"}
