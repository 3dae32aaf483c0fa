"""JobsHook over real HTTP against the emulator: sync and async give the same answers."""

from __future__ import annotations

import time

import pytest

from airflow_jobs_provider.apis.job import JobStatus
from airflow_jobs_provider.exceptions import JobNotFoundError, JobsApiError, JobsAuthError
from airflow_jobs_provider.hooks.jobs import JobsHook
from tests.conftest import TOKEN


def test_start_get_list_cancel_on_tinybird(live):
    live.script("tinybird", outcome="succeeded", queue_seconds=30)
    hook = JobsHook("jobs_default")

    started = hook.start_job({"kind": "copy", "pipe": "events_rollup", "_mode": "append"})
    read = hook.get_job(started.job_id)
    listed = hook.list_jobs(kind="copy", pipe_name="events_rollup")
    cancelled = hook.cancel_job(started.job_id)

    assert started.status is JobStatus.PENDING
    assert started.url and started.job_id in started.url
    assert read.raw_status == "waiting"
    assert started.job_id in [job.job_id for job in listed]
    assert cancelled.status is JobStatus.CANCELLED


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "copy", "pipe": "p1"},
        {"kind": "sink", "pipe": "p2"},
        {"kind": "populate", "pipe": "p3", "node": "n1", "truncate": True},
        {"kind": "import", "name": "events", "url": "https://example.com/e.csv", "mode": "append"},
    ],
)
def test_every_tinybird_start_endpoint_returns_a_watchable_job(live, spec):
    hook = JobsHook("jobs_default")

    job = hook.start_job(spec)

    assert hook.get_job(job.job_id).job_id == job.job_id


def test_cancelling_a_finished_job_says_why_it_cannot(live):
    live.script("tinybird", outcome="succeeded", duration=0, queue_seconds=0)
    hook = JobsHook("jobs_default")
    job = hook.start_job({"kind": "copy", "pipe": "p"})
    time.sleep(0.2)
    with pytest.raises(JobsApiError, match="not in cancellable status"):
        hook.cancel_job(job.job_id)


def test_expired_job_is_read_from_jobs_log(live):
    live.script("tinybird", outcome="failed", duration=0, queue_seconds=0, error="quota exceeded")
    hook = JobsHook("jobs_default")
    job = hook.start_job({"kind": "copy", "pipe": "p"})
    time.sleep(0.2)
    live.expire("tinybird", job.job_id)

    read = hook.get_job(job.job_id)

    assert read.status is JobStatus.FAILED
    assert read.message == "quota exceeded"
    assert read.payload["source"] == "jobs_log"


def test_unknown_job_and_hostile_ids_never_reach_another_endpoint(live):
    hook = JobsHook("jobs_default")
    for job_id in ["nope", "../datasources", "a/b", "x?token=y", "%2F..%2Fpipes", "ünï"]:
        with pytest.raises(JobNotFoundError):
            hook.get_job(job_id)
    paths = [entry["path"] for entry in live.requests() if entry["method"] == "GET"]
    assert all(path.startswith("/v0/jobs/") or path.startswith("/v0/sql") for path in paths), paths


def test_wrong_token_fails_the_connection_test_without_showing_the_token(live, monkeypatch):
    from tests.conftest import connection_env

    assert JobsHook("jobs_default").test_connection()[0] is True
    wrong = connection_env(live.url, token="wrong-token-123")
    monkeypatch.setenv("AIRFLOW_CONN_JOBS_DEFAULT", wrong["AIRFLOW_CONN_JOBS_DEFAULT"])

    ok, message = JobsHook("jobs_default").test_connection()

    assert ok is False
    assert "403" in message and "token" in message
    assert "wrong-token-123" not in message and TOKEN not in message
    with pytest.raises(JobsAuthError):
        JobsHook("jobs_default").get_job("anything")


async def test_async_methods_match_sync_ones(live):
    live.script("tinybird", outcome="succeeded", queue_seconds=30)
    async with JobsHook("jobs_default") as hook:
        started = await hook.astart_job({"kind": "copy", "pipe": "p"})
        read = await hook.aget_job(started.job_id)
        assert read == JobsHook("jobs_default").get_job(started.job_id)
        listed = await hook.alist_jobs(kind="copy")
        cancelled = await hook.acancel_job(started.job_id)

    assert read.raw_status == "waiting"
    assert started.job_id in [job.job_id for job in listed]
    assert cancelled.status is JobStatus.CANCELLED


def test_rest_api_from_connection_extras(live):
    live.script("acme", outcome="failed", duration=0, queue_seconds=0, error="out of memory")
    hook = JobsHook("jobs_acme")

    started = hook.start_job({"task": "monthly_report"})
    time.sleep(0.2)
    done = hook.get_job(started.job_id)

    assert started.status is JobStatus.PENDING
    assert done.status is JobStatus.FAILED
    assert done.message == "out of memory"
    assert done.url and "/acme/ui/runs/" in done.url
    assert started.job_id in [job.job_id for job in hook.list_jobs()]
