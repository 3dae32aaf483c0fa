"""TriggerJobOperator under dag.test(): XComs on every path, waiting, retries, on_kill."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from tests.support.airflow_versions import before_resumable_jobs, needs_resumable_jobs
from tests.support.dagrun import run_dag
from tests.support.jobs import jobs_on

pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.mark.parametrize("way", ["sync", "deferrable"])
def test_operator_waits_for_success_and_pushes_id_and_url(live, way):
    live.script("tinybird", outcome="succeeded", duration=0.5, queue_seconds=0.1)

    result = run_dag(f"operator_waits_{way}")

    (job,) = jobs_on(live)
    assert result.task_states == {"run_job": "success"}
    assert result.xcom("run_job") == job["id"]
    assert result.xcom("run_job", "job_id") == job["id"]
    assert result.xcom("run_job", "job_url") == ""  # Tinybird jobs have no page of their own: no button
    assert result.xcom("run_job", "job_api_url").endswith(f"/v0/jobs/{job['id']}")


@pytest.mark.parametrize("way", ["sync", "deferrable"])
def test_operator_fails_on_a_failed_job_but_still_reports_it(live, way):
    live.script("tinybird", outcome="failed", duration=0.3, queue_seconds=0.1)

    result = run_dag(f"operator_waits_{way}")

    (job,) = jobs_on(live)
    assert result.task_states == {"run_job": "failed"}
    assert result.xcom("run_job", "job_id") == job["id"]


@needs_resumable_jobs
def test_a_retried_task_reconnects_instead_of_starting_a_second_job(live):
    live.script("tinybird", outcome="succeeded", duration=2.0, queue_seconds=0.1)

    result = run_dag("operator_retry_reconnects")

    jobs = jobs_on(live)
    assert len(jobs) == 1, f"expected one job, the emulator saw {len(jobs)}"
    assert result.task_states == {"run_job": "success"}
    assert result.xcom("run_job") == jobs[0]["id"]


@before_resumable_jobs
def test_before_3_3_a_retry_starts_a_second_job(live, capsys):
    """No task state store: the retry cannot know the first try's job, so it starts another."""
    live.script("tinybird", outcome="succeeded", duration=30, queue_seconds=0.1)  # the first job runs long
    live.set_defaults("tinybird", duration=0.3, queue_seconds=0.1)  # any later one is quick

    result = run_dag("operator_retry_after_giving_up")

    assert "This retry starts a new job" in capsys.readouterr().out

    first, second = jobs_on(live)
    assert result.task_states == {"run_job": "success"}
    assert result.xcom("run_job") == result.xcom("run_job", "job_id") == second["id"]
    assert first["raw_status"] in ("waiting", "working"), "the first try's job was left running"


def test_on_kill_cancels_the_started_job(live):
    live.script("tinybird", outcome="succeeded", queue_seconds=30)
    operator = TriggerJobOperator(task_id="t", job={"kind": "copy", "pipe": "p"})
    pushed: dict[str, str] = {}
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.__setitem__(key, value))

    job_id = operator.execute({"ti": ti})
    operator.on_kill()

    (job,) = jobs_on(live)
    assert job["id"] == job_id == pushed["job_id"]
    assert job["raw_status"] == "cancelled"


def test_bad_options_fail_at_parse_time_with_the_fix():
    from airflow_jobs_provider.exceptions import JobsConfigError

    with pytest.raises(JobsConfigError, match="poll_interval must be a positive number"):
        TriggerJobOperator(task_id="t", job={}, poll_interval=0)
    with pytest.raises(JobsConfigError, match="is not a job status"):
        TriggerJobOperator(task_id="t", job={}, status_overrides={"done": "FINISHED"})
