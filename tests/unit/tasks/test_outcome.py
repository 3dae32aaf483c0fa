"""How a finished job, or a trigger event, becomes the task's result or the right exception."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.exceptions import (
    JobCancelledError,
    JobFailedError,
    JobOutcomeError,
    JobsError,
    UnknownJobStateError,
)
from airflow_jobs_provider.tasks.event_kinds import EVENT_KINDS
from airflow_jobs_provider.tasks.outcome import raise_for_outcome, read_event

URL = "https://api.tinybird.co/v0/jobs/42"


def job(status: JobStatus, raw: str = "x", message: str | None = None, url: str | None = URL) -> Job:
    return Job("42", status, raw, url=url, message=message)


# ---------------------------------------------------------------- raise_for_outcome


def test_a_succeeded_job_is_returned_as_is():
    done = job(JobStatus.SUCCEEDED, "done")
    assert raise_for_outcome(done) is done


def test_a_failed_job_raises_with_the_apis_message_and_url():
    with pytest.raises(JobFailedError) as caught:
        raise_for_outcome(job(JobStatus.FAILED, "error", message="Memory limit exceeded"))
    assert str(caught.value) == f"job 42 failed: Memory limit exceeded ({URL})"


def test_a_failed_job_without_a_message_says_so():
    with pytest.raises(JobFailedError, match=r"^job 42 failed: \(the API gave no reason\)$"):
        raise_for_outcome(job(JobStatus.FAILED, "error", url=None))


@pytest.mark.parametrize(
    ("message", "text"),
    [(None, f"job 42 was cancelled (raw state cancelled) ({URL})"),
     ("by admin", f"job 42 was cancelled (raw state cancelled): by admin ({URL})")],
)
def test_a_cancelled_job_raises_cancelled(message, text):
    with pytest.raises(JobCancelledError) as caught:
        raise_for_outcome(job(JobStatus.CANCELLED, "cancelled", message=message))
    assert str(caught.value) == text


@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.RUNNING])
def test_an_unfinished_job_is_not_an_outcome(status):
    with pytest.raises(JobsError, match=f"is {status.value}, not finished") as caught:
        raise_for_outcome(job(status))
    assert not isinstance(caught.value, JobOutcomeError)


@pytest.mark.parametrize("error", [JobFailedError, JobCancelledError, UnknownJobStateError])
def test_outcome_errors_are_fail_exceptions_so_soft_fail_and_no_retry_apply(error):
    # a sensor's soft_fail turns AirflowFailException into a skip in poke mode; retries cannot help
    assert issubclass(error, AirflowFailException)
    assert issubclass(error, JobOutcomeError)


# ---------------------------------------------------------------- read_event (fail-closed)


def event(kind: str, state: JobStatus | None, message: str = "") -> dict:
    data: dict = {"status": kind, "message": message}
    if state is not None:
        data["job"] = job(state, state.value.lower()).to_dict()
    return data


def test_the_event_kinds_are_the_ones_read_event_knows():
    assert frozenset({"success", "failed", "cancelled", "timeout", "error", "start_on_worker"}) == EVENT_KINDS


@pytest.mark.parametrize(
    ("kind", "state"),
    [
        ("success", JobStatus.SUCCEEDED),
        ("failed", JobStatus.FAILED),
        ("cancelled", JobStatus.CANCELLED),
        ("timeout", JobStatus.RUNNING),
        ("timeout", None),
        ("error", JobStatus.PENDING),
        ("error", None),
    ],
)
def test_consistent_events_are_read(kind, state):
    read_kind, read_job, message = read_event(event(kind, state, message="note"))
    assert read_kind == kind
    assert message == "note"
    if state is None:
        assert read_job is None
    else:
        assert read_job == job(state, state.value.lower())


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (None, "unexpected trigger event"),
        ("success", "unexpected trigger event"),
        (["success"], "unexpected trigger event"),
        ({}, "unexpected trigger event"),
        ({"status": "SUCCESS"}, "unexpected trigger event"),
        ({"status": "done", "job": Job("1", JobStatus.SUCCEEDED, "done").to_dict()}, "unexpected trigger event"),
        ({"status": ["success"]}, "unexpected trigger event"),
        (event("success", None), "carries no job"),
        (event("failed", None), "carries no job"),
        (event("cancelled", None), "carries no job"),
        ({"status": "success", "job": "42"}, "carries no job"),
        (event("success", JobStatus.FAILED), "disagrees with job state FAILED"),
        (event("success", JobStatus.RUNNING), "disagrees with job state RUNNING"),
        (event("failed", JobStatus.SUCCEEDED), "disagrees with job state SUCCEEDED"),
        (event("cancelled", JobStatus.FAILED), "disagrees with job state FAILED"),
        ({"status": "success", "job": {"job_id": "1"}}, "malformed job"),
        ({"status": "success", "job": {"job_id": "1", "status": "DONE", "raw_status": "done"}}, "malformed job"),
    ],
)
def test_anything_unexpected_is_an_error_never_a_success(bad, says):
    with pytest.raises(JobsError, match=says):
        read_event(bad)
