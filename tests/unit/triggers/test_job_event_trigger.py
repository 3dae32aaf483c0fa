"""JobEventTrigger's kwargs, keys and matching: what decides identity, sharing and the cursor."""

from __future__ import annotations

from datetime import datetime

import pytest

from airflow_jobs_provider.apis.faktory.api import FaktoryApi
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.tinybird import TinybirdApi
from airflow_jobs_provider.exceptions import JobsConfigError
from airflow_jobs_provider.triggers.job_lists import JobList, refuse_unlistable
from airflow_jobs_provider.triggers.jobs import JobEventTrigger
from airflow_jobs_provider.version_compat import AIRFLOW_V_3_0_PLUS
from tests.support.trigger_store import rebuilt


def watcher(**kwargs: object) -> JobEventTrigger:
    defaults: dict[str, object] = {"filters": {"kind": "copy"}, "poll_interval": 5}
    return JobEventTrigger(**{**defaults, **kwargs})  # type: ignore[arg-type]


def test_kwargs_are_plain_json_and_survive_the_round_trip():
    trigger = watcher(match={"pipe_name": "x"}, states=["failed", "SUCCEEDED"], lookback_seconds=60)

    classpath, kwargs = rebuilt(trigger).serialize()  # type: ignore[arg-type]

    assert classpath == "airflow_jobs_provider.triggers.jobs.JobEventTrigger"
    assert kwargs == {
        "jobs_conn_id": "jobs_default",
        "filters": {"kind": "copy"},
        "match": {"pipe_name": "x"},
        "states": ["FAILED", "SUCCEEDED"],
        "poll_interval": 5.0,
        "lookback_seconds": 60.0,
        "status_overrides": {},
    }


@pytest.mark.skipif(not AIRFLOW_V_3_0_PLUS, reason="BaseEventTrigger.hash is Airflow 3")
def test_the_same_watcher_written_differently_is_one_trigger():
    one = watcher(states=["SUCCEEDED", "FAILED"], poll_interval=5)
    two = watcher(states=["failed", "succeeded"], poll_interval=5.0)

    assert JobEventTrigger.hash(*one.serialize()) == JobEventTrigger.hash(*two.serialize())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"states": ["RUNNING"]}, "not a state a job finishes in"),
        ({"states": []}, "states is empty"),
        ({"states": ["DONE"]}, "'DONE' is not a job status"),
        ({"poll_interval": 0}, "poll_interval must be a positive number"),
        ({"lookback_seconds": -5}, "lookback_seconds must be a positive number"),
        ({"filters": {"created_after": datetime(2026, 1, 1)}}, "filters must be plain JSON"),
        ({"match": ["pipe_name"]}, "match must be a dict"),
        ({"jobs_conn_id": ""}, "jobs_conn_id must name a connection"),
        ({"status_overrides": {"warning": "MAYBE"}}, "status_overrides['warning']"),
    ],
)
def test_bad_kwargs_are_refused_when_the_dag_is_parsed(kwargs, message):
    with pytest.raises(JobsConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        watcher(**kwargs)


def test_states_accept_one_state_or_job_statuses():
    assert watcher(states="failed").states == {JobStatus.FAILED}
    assert watcher(states=[JobStatus.CANCELLED]).states == {JobStatus.CANCELLED}


def test_watchers_share_a_stream_only_for_the_same_request_at_the_same_cadence():
    base = watcher(match={"pipe_name": "a"})

    same_list = [
        watcher(match={"pipe_name": "b"}),
        watcher(states=["FAILED"]),
        watcher(lookback_seconds=600),
    ]
    other_list = [
        watcher(filters={"kind": "populate"}),
        watcher(poll_interval=10),
        watcher(jobs_conn_id="jobs_other"),
        watcher(status_overrides={"error": "CANCELLED"}),
    ]

    assert all(other.shared_stream_key() == base.shared_stream_key() for other in same_list)
    assert all(other.shared_stream_key() != base.shared_stream_key() for other in other_list)
    assert hash(base.shared_stream_key()), "the triggerer keys a dict with it"


def test_the_cursor_key_follows_what_decides_which_jobs_fire():
    base = watcher(match={"pipe_name": "a"})

    assert watcher(match={"pipe_name": "a"}, poll_interval=60, lookback_seconds=30).cursor_key() == base.cursor_key()
    assert watcher(match={"pipe_name": "b"}).cursor_key() != base.cursor_key()
    assert watcher(match={"pipe_name": "a"}, states=["FAILED"]).cursor_key() != base.cursor_key()
    assert watcher(match={"pipe_name": "a"}, filters={"kind": "sink"}).cursor_key() != base.cursor_key()


def test_match_reads_dotted_payload_paths_and_lists_of_values():
    payload = {"pipe_name": "a", "config": 554424643, "datasource": {"name": "d"}}
    job = Job("1", JobStatus.SUCCEEDED, "done", payload=payload)

    assert watcher(match={"pipe_name": "a"}).matches(job)
    assert watcher(match={"pipe_name": ["b", "a"]}).matches(job)
    assert watcher(match={"config": "554424643"}).matches(job), "numbers and strings compare as text"
    assert watcher(match={"datasource.name": "d"}).matches(job)
    assert not watcher(match={"pipe_name": "b"}).matches(job)
    assert not watcher(match={"missing": "a"}).matches(job)
    assert not watcher(match={"datasource": "d"}).matches(job), "an object never equals a value"


def test_an_api_without_a_job_list_is_refused_with_the_way_out():
    tinybird = TinybirdApi(ApiSettings("jobs_default", "tinybird", "https://api.tinybird.co"))
    refuse_unlistable(tinybird, "jobs_default")  # fine

    with pytest.raises(JobsConfigError, match="'jobs_faktory': the faktory API has no job list") as error:
        refuse_unlistable(FaktoryApi(ApiSettings("jobs_faktory", "faktory", "tcp://faktory:7419")), "jobs_faktory")
    assert "JobSensor" in str(error.value)


def test_the_event_carries_the_job_as_a_dict():
    job = Job("42", JobStatus.SUCCEEDED, "done", url="https://x/42", payload={"pipe_name": "a"})

    payload = watcher().event_payload(JobList("tinybird", (job,)), job)

    assert payload == {
        "job_id": "42",
        "status": "SUCCEEDED",
        "api": "tinybird",
        "jobs_conn_id": "jobs_default",
        "job": job.to_dict(),
    }
    assert Job.from_dict(payload["job"]) == job
