"""ProgressLog: one log line per change of state or progress, silence while nothing changes."""

from __future__ import annotations

from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.tasks.progress import ProgressLog


def test_each_change_is_logged_once():
    log = ProgressLog()
    polls = [
        Job("42", JobStatus.PENDING, "waiting"),
        Job("42", JobStatus.PENDING, "waiting"),
        Job("42", JobStatus.RUNNING, "working", progress=10.0),
        Job("42", JobStatus.RUNNING, "working", progress=10.0),
        Job("42", JobStatus.RUNNING, "working", progress=55.0),
        Job("42", JobStatus.RUNNING, "cancelling", progress=55.0),
        Job("42", JobStatus.CANCELLED, "cancelled"),
        Job("42", JobStatus.CANCELLED, "cancelled"),
    ]
    lines = [log.line(job) for job in polls]
    assert lines == [
        "job 42: PENDING (raw: waiting)",
        None,
        "job 42: RUNNING 10% (raw: working)",
        None,
        "job 42: RUNNING 55% (raw: working)",
        "job 42: RUNNING 55% (raw: cancelling)",
        "job 42: CANCELLED",  # raw state equals the canonical one but for case
        None,
    ]


def test_a_message_change_alone_is_not_a_new_line():
    log = ProgressLog()
    assert log.line(Job("7", JobStatus.RUNNING, "RUNNING", message="step 1")) == "job 7: RUNNING: step 1"
    assert log.line(Job("7", JobStatus.RUNNING, "RUNNING", message="step 2")) is None


def test_separate_logs_do_not_share_memory():
    job = Job("7", JobStatus.RUNNING, "RUNNING")
    first, second = ProgressLog(), ProgressLog()
    assert first.line(job) is not None
    assert second.line(job) is not None
