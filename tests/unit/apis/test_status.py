"""The canonical status model: five states, a Job that survives XCom and trigger events."""

from __future__ import annotations

import json

import pytest

from airflow_jobs_provider.apis.job import TERMINAL_STATUSES, Job, JobStatus


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PENDING", JobStatus.PENDING),
        ("running", JobStatus.RUNNING),
        ("Succeeded", JobStatus.SUCCEEDED),
        ("fAiLeD", JobStatus.FAILED),
        ("  cancelled \n", JobStatus.CANCELLED),
    ],
)
def test_parse_accepts_any_case(text, expected):
    assert JobStatus.parse(text) is expected


@pytest.mark.parametrize("text", ["", "DONE", "success", "RUNNIN", None, 3])
def test_parse_rejects_anything_else_and_lists_the_choices(text):
    with pytest.raises(ValueError, match="PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED"):
        JobStatus.parse(text)


def test_exactly_three_states_are_terminal():
    assert {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED} == TERMINAL_STATUSES
    assert [s for s in JobStatus if not s.is_terminal] == [JobStatus.PENDING, JobStatus.RUNNING]


@pytest.mark.parametrize(
    "job",
    [
        Job("j1", JobStatus.PENDING, "waiting"),
        Job(
            "d5b869ed-3a74-45f9-af54-57350aae4cef",
            JobStatus.FAILED,
            "error",
            url="https://api.tinybird.co/v0/jobs/d5b869ed",
            progress=37.5,
            message="boom; line 3",
            payload={"statistics": {"bytes": 1592720209, "row_count": 50000000}, "errors": ["a", "b"]},
        ),
    ],
)
def test_job_round_trips_through_json(job):
    data = json.loads(json.dumps(job.to_dict()))
    assert data["status"] == job.status.value  # plain string, not an enum repr
    assert Job.from_dict(data) == job


@pytest.mark.parametrize(
    ("job", "line"),
    [
        (Job("1", JobStatus.RUNNING, "working", progress=45.0), "RUNNING 45% (raw: working)"),
        (Job("1", JobStatus.RUNNING, "RUNNING", progress=12.5), "RUNNING 12.5%"),
        (Job("1", JobStatus.SUCCEEDED, "done", progress=100.0), "SUCCEEDED (raw: done)"),
        (Job("1", JobStatus.FAILED, "error", message="disk full"), "FAILED (raw: error): disk full"),
    ],
)
def test_describe_is_one_short_line(job, line):
    assert job.describe() == line
