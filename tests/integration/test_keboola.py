"""Keboola end to end: JobsHook (sync and async) and DAGs under dag.test() against the emulator."""

from __future__ import annotations

import pytest

from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.exceptions import JobNotFoundError, JobsAuthError, JobsConfigError
from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.triggers.jobs import JobStatusTrigger
from tests.conftest import TOKEN
from tests.support.dagrun import run_dag
from tests.support.jobs import SLOW_START
from tests.support.polling import apoll_until, poll_until

CONN_ID = "jobs_keboola"
SPEC = {"component": "keboola.ex-db-snowflake", "config": "554424643"}
MODES = ["poke", "deferrable"]


# ---------------------------------------------------------------- the hook


def test_start_get_list_and_kill_before_start_cancels(live):
    live.script("keboola", queue_seconds=30)
    hook = JobsHook(CONN_ID)

    started = hook.start_job({**SPEC, "parentRunId": "4242"})
    read = hook.get_job(started.job_id)
    listed = hook.list_jobs(componentId=SPEC["component"], status=["created", "waiting"], limit=10)
    killed = hook.cancel_job(started.job_id)

    assert (started.status, started.raw_status) == (JobStatus.PENDING, "created")
    assert started.url == f"{live.url}/jobs/{started.job_id}"
    assert read.payload["runId"] == f"4242.{started.job_id}"
    assert read.payload["parentRunId"] == "4242"
    assert [job.job_id for job in listed] == [started.job_id]
    assert (killed.status, killed.raw_status) == (JobStatus.CANCELLED, "cancelled")
    assert hook.list_jobs(status="created") == []


def test_kill_while_processing_terminates(live):
    live.script("keboola", queue_seconds=0, duration=30)
    hook = JobsHook(CONN_ID)
    job_id = hook.start_job(SPEC).job_id
    poll_until(
        lambda: hook.get_job(job_id),
        lambda job: job.raw_status == "processing",
        interval=0.05,
        what="the job to be processing",
        describe=Job.describe,
    )

    killed = hook.cancel_job(job_id)
    ended = poll_until(
        lambda: hook.get_job(job_id),
        lambda job: job.status.is_terminal,
        interval=0.05,
        what="the job to end",
        describe=Job.describe,
    )

    assert (killed.status, killed.raw_status) == (JobStatus.RUNNING, "terminating")
    assert (ended.status, ended.raw_status) == (JobStatus.CANCELLED, "terminated")


async def test_async_methods_start_get_list_and_kill(live):
    live.script("keboola", queue_seconds=30)
    live.script("keboola", queue_seconds=0, duration=30)
    async with JobsHook(CONN_ID) as hook:
        queued = await hook.astart_job(SPEC)
        working = await hook.astart_job({**SPEC, "config": "2"})
        read = await hook.aget_job(queued.job_id)
        assert read == JobsHook(CONN_ID).get_job(queued.job_id), "async and sync read the same job"
        listed = await hook.alist_jobs(config=["554424643", "2"], sortOrder="asc")
        cancelled = await hook.acancel_job(queued.job_id)
        await apoll_until(
            lambda: hook.aget_job(working.job_id),
            lambda job: job.raw_status == "processing",
            interval=0.05,
            what="the job to be processing",
            describe=Job.describe,
        )
        terminating = await hook.acancel_job(working.job_id)
        terminated = await apoll_until(
            lambda: hook.aget_job(working.job_id),
            lambda job: job.status.is_terminal,
            interval=0.05,
            what="the job to end",
            describe=Job.describe,
        )

    assert read.raw_status == "created"
    assert [job.job_id for job in listed] == [queued.job_id, working.job_id]
    assert (cancelled.status, cancelled.raw_status) == (JobStatus.CANCELLED, "cancelled")
    assert terminating.raw_status == "terminating"
    assert (terminated.status, terminated.raw_status) == (JobStatus.CANCELLED, "terminated")


def test_failed_job_carries_keboolas_result_message(live):
    live.script("keboola", outcome="failed", queue_seconds=0, duration=0, error="Table in.c-main.x not found")
    hook = JobsHook(CONN_ID)
    job_id = hook.start_job(SPEC).job_id

    failed = poll_until(
        lambda: hook.get_job(job_id),
        lambda job: job.status.is_terminal,
        interval=0.05,
        what="the job to end",
        describe=Job.describe,
    )

    assert failed.status is JobStatus.FAILED
    assert failed.message is not None and failed.message.startswith("Table in.c-main.x not found (user error")


def test_an_unknown_state_waits_while_unfinished_and_fails_when_final(live):
    live.script("keboola", queue_seconds=30)
    live.script("keboola", outcome="mystery", queue_seconds=0, duration=0)
    hook = JobsHook(CONN_ID)
    other_config = {**SPEC, "config": "554424644"}  # the same one would wait behind the first (its lock)
    waiting_id, final_id = hook.start_job(SPEC).job_id, hook.start_job(other_config).job_id
    live.force_state("keboola", waiting_id, "suspended")

    unfinished = hook.get_job(waiting_id)
    final = poll_until(
        lambda: hook.get_job(final_id),
        lambda job: job.status.is_terminal,
        interval=0.05,
        what="the job to end",
        describe=Job.describe,
    )

    assert (unfinished.status, unfinished.raw_status) == (JobStatus.RUNNING, "suspended")
    assert (final.status, final.raw_status) == (JobStatus.FAILED, "mystery")
    assert final.message is not None and "'mystery'" in final.message


def test_unknown_job_wrong_token_and_bad_spec_fail_clearly(live, monkeypatch):
    from tests.conftest import connection_env

    hook = JobsHook(CONN_ID)
    with pytest.raises(JobNotFoundError, match="exceptionId job-queue-"):
        hook.get_job("123")
    with pytest.raises(JobsConfigError, match="'component'"):
        hook.start_job({"config": "1"})
    assert hook.test_connection()[0] is True
    assert all(entry["method"] == "GET" for entry in live.requests()), "a bad spec sends nothing"

    wrong = connection_env(live.url, token="wrong-token-123")
    monkeypatch.setenv("AIRFLOW_CONN_JOBS_KEBOOLA", wrong["AIRFLOW_CONN_JOBS_KEBOOLA"])
    ok, message = JobsHook(CONN_ID).test_connection()
    assert ok is False
    assert "401" in message and "Invalid access token" in message
    assert "wrong-token-123" not in message and TOKEN not in message
    with pytest.raises(JobsAuthError):
        JobsHook(CONN_ID).get_job("1")


# ---------------------------------------------------------------- DAGs under dag.test()


@pytest.mark.usefixtures("airflow_db")
def test_example_dag_runs_a_job_and_waits_for_it(live):
    live.set_defaults("keboola", queue_seconds=0.1, duration=0.5)

    result = run_dag("example_keboola", {"parent_run_id": "777"})

    (job,) = live.jobs("keboola")
    assert result.task_states == {"run_extractor": "success", "wait_for_extractor": "success"}
    # str(): dagrun.py's read-back JSON-decodes twice, so "900000001" comes back as a number; tasks get the string
    assert str(result.xcom("run_extractor", "job_id")) == job["id"]
    assert result.xcom("run_extractor", "job_url") == f"{live.url}/admin/projects/7150/queue/{job['id']}"
    assert result.xcom("run_extractor", "job_api_url") == f"{live.url}/jobs/{job['id']}"
    assert result.xcom("wait_for_extractor")["payload"]["runId"] == f"777.{job['id']}"


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("mode", MODES)
def test_done_job_succeeds_in_every_mode(live, mode, mocker):
    live.set_defaults("keboola", queue_seconds=0.1, duration=SLOW_START if mode == "deferrable" else 0.4)
    trigger_runs = mocker.spy(JobStatusTrigger, "run")

    result = run_dag(f"keboola_{mode}")

    assert trigger_runs.call_count == (1 if mode == "deferrable" else 0), "deferrable really defers"
    (job,) = live.jobs("keboola")
    assert result.task_states == {"start": "success", "wait": "success"}
    final = result.xcom("wait")
    assert (final["job_id"], final["status"], final["raw_status"]) == (job["id"], "SUCCEEDED", "success")


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("outcome", ["failed", "cancelled", "terminated", "warning", "mystery"])
def test_failed_cancelled_or_odd_endings_fail_the_task(live, mode, outcome, capsys):
    live.set_defaults("keboola", outcome=outcome, queue_seconds=0.1, duration=0.4, error="disk full on node 7")

    result = run_dag(f"keboola_{mode}")

    (job,) = live.jobs("keboola")
    assert result.task_states == {"start": "success", "wait": "failed"}
    assert result.xcom("wait") is None
    expected = {
        "failed": f"JobFailedError: job {job['id']} failed: disk full on node 7",
        "cancelled": f"JobCancelledError: job {job['id']} was cancelled (raw state cancelled)",
        "terminated": f"JobCancelledError: job {job['id']} was cancelled (raw state terminated)",
        "warning": "status_overrides={'warning': 'SUCCEEDED'}",
        "mystery": f"JobFailedError: job {job['id']} failed: keboola ended the job in state 'mystery'",
    }[outcome]
    assert expected in capsys.readouterr().out


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("mode", MODES)
def test_warning_succeeds_when_the_task_maps_it(live, mode):
    live.set_defaults("keboola", outcome="warning", queue_seconds=0.1, duration=0.4)

    result = run_dag(f"keboola_{mode}_warning_ok")

    assert result.task_states == {"start": "success", "wait": "success"}
    assert result.xcom("wait")["raw_status"] == "warning"
