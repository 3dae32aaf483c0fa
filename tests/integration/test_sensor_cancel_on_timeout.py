"""``cancel_on_timeout``: a sensor that gives up cancels the job in every wait mode, and only then."""

from __future__ import annotations

import pytest

from tests.support.dagrun import run_dag
from tests.support.jobs import jobs_on, start_tinybird_job

MODES = ["poke", "reschedule", "deferrable"]
pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("soft_fail", [False, True])
def test_a_timed_out_sensor_cancels_the_job(live, mode, soft_fail):
    job_id = start_tinybird_job(live, "succeeded", queue_seconds=30)  # Tinybird cancels a waiting copy job

    result = run_dag(f"sensor_{mode}_times_out_cancels{'_soft_fail' if soft_fail else ''}", {"job_id": job_id})

    assert result.task_states == {"wait": "skipped" if soft_fail else "failed"}
    (job,) = jobs_on(live)
    assert job["raw_status"] == "cancelled", f"the job was left running: {job}"


@pytest.mark.parametrize("mode", MODES)
def test_without_the_option_the_job_keeps_running(live, mode):
    job_id = start_tinybird_job(live, "succeeded", queue_seconds=30)

    result = run_dag(f"sensor_{mode}_times_out", {"job_id": job_id})

    assert result.task_states == {"wait": "failed"}
    (job,) = jobs_on(live)
    assert not job["cancel_requested"]


def test_a_failed_job_is_not_cancelled_again(live):
    job_id = start_tinybird_job(live, "failed")

    result = run_dag("sensor_poke_times_out_cancels_soft_fail", {"job_id": job_id})

    assert result.task_states == {"wait": "skipped"}
    (job,) = jobs_on(live)
    assert not job["cancel_requested"], "soft_fail on a failed job is not a timeout"
