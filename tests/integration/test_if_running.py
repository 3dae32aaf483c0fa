"""``TriggerJobOperator(if_running=...)`` through dag.test(), on every API, with a job of the target running."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_jobs_provider.apis.job import JobStatus
from airflow_jobs_provider.exceptions import JobsConfigError
from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from tests.dags.if_running import TARGETS
from tests.support.dagrun import run_dag
from tests.support.polling import poll_until

pytestmark = pytest.mark.usefixtures("airflow_db")

EMULATED = {"tinybird": "tinybird", "keboola": "keboola", "airbyte": "airbyte", "rest": "acme", "faktory": "faktory"}
START_FAILS = {"airbyte": "HTTP 409", "faktory": "pushing it again would run it twice"}
"""Where if_running='start' cannot start a second job: Airbyte refuses (409), a Faktory jid is unique."""


def busy_job(live: Any, api: str) -> str:
    """A job of the DAG's target that keeps running (a Tinybird copy keeps waiting: only then can it be cancelled)."""
    conn_id, spec = TARGETS[api]
    queue = 60 if api == "tinybird" else 0.05
    live.script(EMULATED[api], outcome="succeeded", queue_seconds=queue, duration=60)
    job = JobsHook(conn_id).start_job(spec)
    poll_until(lambda: not JobsHook(conn_id).get_job(job.job_id).status.is_terminal, timeout=5)
    return job.job_id


def job_ids(live: Any, api: str) -> list[str]:
    return [job["id"] for job in live.jobs(EMULATED[api])]


@pytest.fixture
def quick(live: Any) -> Any:
    for api in EMULATED.values():
        live.set_defaults(api, queue_seconds=0.05, duration=0.3)
    return live


@pytest.mark.parametrize("api", list(TARGETS))
def test_join_watches_the_running_job_instead_of_starting_one(quick, api, capsys):
    running = busy_job(quick, api)

    result = run_dag(f"if_running_{api}_join")

    assert result.task_states == {"start": "success"}
    assert result.xcom("start", "job_id") == running
    assert job_ids(quick, api) == [running], "no second job"
    assert f"Joined job {running}, which was already running" in capsys.readouterr().out


@pytest.mark.parametrize("api", list(TARGETS))
def test_fail_fails_the_task_and_starts_nothing(quick, api, capsys):
    running = busy_job(quick, api)

    result = run_dag(f"if_running_{api}_fail")

    assert result.task_states == {"start": "failed"}
    assert job_ids(quick, api) == [running]
    out = capsys.readouterr().out
    assert "JobAlreadyRunningError" in out and running in out and "if_running='fail'" in out


@pytest.mark.parametrize("api", [api for api in TARGETS if api != "faktory"])
def test_cancel_cancels_the_running_job_then_starts_one(quick, api):
    conn_id, _ = TARGETS[api]
    running = busy_job(quick, api)

    result = run_dag(f"if_running_{api}_cancel")

    assert result.task_states == {"start": "success"}
    new = result.xcom("start", "job_id")
    assert new != running and job_ids(quick, api) == [running, new]
    poll_until(lambda: JobsHook(conn_id).get_job(running).status, lambda status: status is JobStatus.CANCELLED,
               timeout=5, what=f"job {running} to end cancelled")


def test_faktory_cannot_cancel_so_cancel_is_refused_with_the_way_out(quick, capsys):
    running = busy_job(quick, "faktory")

    result = run_dag("if_running_faktory_cancel")

    assert result.task_states == {"start": "failed"}
    assert job_ids(quick, "faktory") == [running]
    assert "use if_running='join' to watch the running job" in capsys.readouterr().out


@pytest.mark.parametrize("api", list(TARGETS))
def test_start_starts_another_job_where_the_api_allows_it(quick, api, capsys):
    running = busy_job(quick, api)

    result = run_dag(f"if_running_{api}_start")

    if api in START_FAILS:
        assert result.task_states == {"start": "failed"}
        assert job_ids(quick, api) == [running]
        assert START_FAILS[api] in capsys.readouterr().out
    else:
        assert result.task_states == {"start": "success"}
        assert job_ids(quick, api) == [running, result.xcom("start", "job_id")]


def test_keboolas_configuration_lock_holds_a_second_job_waiting(quick):
    running = busy_job(quick, "keboola")

    result = run_dag("if_running_keboola_start")

    second = JobsHook("jobs_keboola").get_job(result.xcom("start", "job_id"))
    assert (second.raw_status, second.status) == ("waiting", JobStatus.PENDING), "locked behind " + running


@pytest.mark.parametrize("api", ["tinybird", "airbyte", "keboola"])
def test_join_with_nothing_running_starts_a_job(quick, api):
    result = run_dag(f"if_running_{api}_join")

    assert result.task_states == {"start": "success"}
    assert job_ids(quick, api) == [result.xcom("start", "job_id")]


def test_faktory_join_needs_a_jid(quick):
    hook = JobsHook("jobs_faktory")

    with pytest.raises(JobsConfigError, match="needs a fixed 'jid'"):
        hook.start({"jobtype": "Busy", "args": []}, if_running="join")

    assert quick.jobs("faktory") == []


def test_if_running_is_checked_when_the_dag_is_parsed():
    with pytest.raises(JobsConfigError, match="if_running must be one of 'start', 'join', 'fail', 'cancel'"):
        TriggerJobOperator(task_id="t", job={"kind": "copy", "pipe": "p"}, if_running="reuse")
