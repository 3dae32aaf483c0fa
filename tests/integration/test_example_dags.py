"""Each example DAG passes under dag.test() against the emulator over HTTP."""

from __future__ import annotations

import pytest

from tests.support.dagrun import run_dag
from tests.support.jobs import jobs_on, start_tinybird_job

pytestmark = pytest.mark.usefixtures("airflow_db")


def test_trigger_then_sensor_via_xcom(live):
    live.set_defaults("tinybird", duration=0.5, queue_seconds=0.1, progress=[50])

    result = run_dag("example_tinybird_copy")

    (job,) = jobs_on(live)
    assert result.task_states == {"start_copy": "success", "wait_for_copy": "success"}
    assert result.xcom("wait_for_copy")["job_id"] == job["id"]


def test_sensor_on_dag_run_conf(live):
    job_id = start_tinybird_job(live, "succeeded")

    result = run_dag("example_job_from_conf", {"job_id": job_id})

    assert result.task_states == {"wait_for_job": "success"}


def test_deferrable_monitor(live):
    live.set_defaults("tinybird", duration=0.8, queue_seconds=0.1, progress=[20, 60])

    result = run_dag("example_deferrable_monitor")

    assert result.task_states == {"start_populate": "success", "watch_populate": "success"}
    assert result.xcom("watch_populate")["raw_status"] == "done"


def test_declarative_rest_api(live):
    live.set_defaults("acme", duration=0.5, queue_seconds=0.1)

    result = run_dag("example_rest_api")

    (job,) = jobs_on(live, "acme")
    assert result.task_states == {"run_report": "success"}
    assert result.xcom("run_report") == job["id"]
    assert "/acme/ui/runs/" in result.xcom("run_report", "job_url")


def test_if_running_joins_the_job_already_running(live, capsys):
    # long enough to still run when the second task looks, even on a loaded machine
    live.set_defaults("keboola", duration=4.0, queue_seconds=0.1)

    result = run_dag("example_if_running")

    (job,) = jobs_on(live, "keboola")
    assert result.task_states == {"someone_elses_run": "success", "extract": "success"}
    assert result.xcom("someone_elses_run", "job_id") == result.xcom("extract", "job_id") == job["id"]
    assert f"Joined job {job['id']}, which was already running" in capsys.readouterr().out


def test_cross_team_dependency_waits_for_the_next_jobs_of_another_team(live):
    from airflow_jobs_provider.hooks.jobs import JobsHook

    for api in ("tinybird", "keboola"):
        live.set_defaults(api, duration=1.0, queue_seconds=0.1)
    live.script("keboola", outcome="failed", duration=0.2, queue_seconds=0.0)  # passed over: states=["SUCCEEDED"]
    failed = JobsHook("jobs_keboola").start_job({"component": "keboola.ex-db-snowflake", "config": "554424643"})
    rollup = JobsHook("jobs_default").start_job({"kind": "copy", "pipe": "sales_rollup"})
    JobsHook("jobs_default").start_job({"kind": "copy", "pipe": "another_pipe"})
    extract = JobsHook("jobs_keboola").start_job({"component": "keboola.ex-db-snowflake", "config": "554424643"})

    result = run_dag("example_cross_team_dependency")

    assert result.task_states == {"wait_for_sales_rollup": "success", "wait_for_snowflake_extract": "success"}
    assert result.xcom("wait_for_sales_rollup")["job_id"] == rollup.job_id
    assert result.xcom("wait_for_snowflake_extract")["job_id"] == extract.job_id != failed.job_id
