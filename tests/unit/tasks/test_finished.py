"""What "the next job to finish after T" is, and how an untrusted finished_after is read."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.exceptions import JobsConfigError
from airflow_jobs_provider.sensors.jobs import JobFinishedSensor
from airflow_jobs_provider.tasks.finished import FinishedJobQuery, parse_finished_after

T = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize(
    "value",
    ["2026-03-01T12:00:00+00:00", "2026-03-01T12:00:00Z", "2026-03-01 12:00:00", "2026-03-01T13:00:00+01:00",
     datetime(2026, 3, 1, 12, 0), datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)],
)  # fmt: skip
def test_a_time_in_iso_8601_or_a_datetime(value):
    assert parse_finished_after(value) == T


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("yesterday", "is not a time in ISO 8601"),
        ("2026-13-45", "is not a time in ISO 8601"),
        ("None", "rendered to 'None'"),
        ("", "must be a time in ISO 8601"),
        (None, "must be a time in ISO 8601"),
        (1_700_000_000, "must be a time in ISO 8601"),
        (["2026-01-01"], "must be a time in ISO 8601"),
    ],
)
def test_anything_else_is_refused_with_an_example(value, says):
    with pytest.raises(JobsConfigError, match=says) as caught:
        parse_finished_after(value)
    assert "data_interval_end" in str(caught.value)


def job(job_id: str, status: str = "SUCCEEDED", **payload: object) -> Job:
    return Job(job_id=job_id, status=JobStatus(status), raw_status=status.lower(), payload=dict(payload))


def at(minutes: float) -> str:
    return datetime.fromtimestamp(T + minutes * 60, tz=timezone.utc).isoformat()


def query(**changes: object) -> FinishedJobQuery:
    return FinishedJobQuery.checked(changes.get("filters"), changes.get("match"), T, changes.get("states", "SUCCEEDED"))  # type: ignore[arg-type]


def test_the_job_that_finished_first_after_the_time():
    jobs = [job("late", endTime=at(30)), job("before", endTime=at(-5)), job("next", endTime=at(10))]
    assert query().pick(jobs).job_id == "next"  # type: ignore[union-attr]


def test_at_the_time_counts_and_running_jobs_do_not():
    jobs = [job("running", "RUNNING", endTime=None, createdTime=at(1)), job("on_time", endTime=at(0))]
    assert query().pick(jobs).job_id == "on_time"  # type: ignore[union-attr]


def test_states_and_match_narrow_the_choice():
    jobs = [job("failed", "FAILED", endTime=at(1), pipe_name="x"), job("other", endTime=at(2), pipe_name="y"),
            job("ok", endTime=at(3), pipe_name="x")]  # fmt: skip
    assert query(match={"pipe_name": "x"}).pick(jobs).job_id == "ok"  # type: ignore[union-attr]
    every_end = FinishedJobQuery.checked(None, {"pipe_name": "x"}, T, ["SUCCEEDED", "FAILED"])
    assert every_end.pick(jobs).job_id == "failed"  # type: ignore[union-attr]


def test_a_job_without_any_time_never_counts_and_is_remembered():
    q = query()
    assert q.pick([job("timeless")]) is None
    assert q.untimed == {"timeless"}


def test_the_creation_time_stands_in_where_the_api_gives_no_end():
    assert query().pick([job("rest", created=at(5))]).job_id == "rest"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"finished_after": 3}, "finished_after must be a time"),
        ({"finished_after": "x", "filters": ["kind"]}, "filters must be a dict"),
        ({"finished_after": "x", "states": ["RUNNING"]}, "RUNNING is not a state a job finishes in"),
        ({"finished_after": "x", "states": []}, "states is empty"),
        ({"finished_after": "x", "states": ["DONE"]}, "'DONE' is not a job status"),
    ],
)
def test_the_sensor_checks_what_it_can_at_parse_time(kwargs, says):
    with pytest.raises(JobsConfigError, match=says):
        JobFinishedSensor(task_id="wait", **kwargs)
