"""Uncertain starts resolved on the real emulator, for every API, sync and async.

The emulator's ``lost`` fault creates the job and drops the answer; ``dropped`` drops the request
before the API acts. Both look the same to the client, which must tell them apart by looking.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_jobs_provider.apis.starting import StartOutcome
from airflow_jobs_provider.exceptions import JobStartUncertainError
from airflow_jobs_provider.hooks.jobs import JobsHook
from tests.conftest import TOKEN
from tests.support.polling import poll_until

CONNECTION = "5ca1ab1e-0000-4000-8000-00000000beef"
APIS: dict[str, tuple[str, str, dict[str, Any], str]] = {
    # label: (conn id, emulator api, start spec, the start's route in the emulator)
    "tinybird": ("jobs_default", "tinybird", {"kind": "copy", "pipe": "lookup_pipe"}, "copy"),
    "keboola": ("jobs_keboola", "keboola", {"component": "keboola.ex-lookup", "config": "777"}, "create"),
    "airbyte": ("jobs_airbyte", "airbyte", {"connectionId": CONNECTION, "jobType": "sync"}, "jobs"),
    "rest": ("jobs_acme", "acme", {"task": "lookup_task"}, "runs"),
    "faktory": ("jobs_faktory", "faktory", {"jobtype": "Lookup", "args": [7]}, "PUSH"),
}


def start(label: str, way: str, **options: Any) -> StartOutcome:
    conn_id, _, spec, _ = APIS[label]
    if way == "sync":
        return JobsHook(conn_id).start(spec, **options)

    async def go() -> StartOutcome:
        async with JobsHook(conn_id) as hook:
            return await hook.astart(spec, **options)

    return asyncio.run(go())


def starts_sent(live: Any, label: str) -> int:
    """Start requests the emulator received (a dropped one counts: it reached the wire)."""
    _, api, _, _ = APIS[label]
    if api == "faktory":
        return sum(1 for entry in live.faktory()["commands"] if entry["verb"] == "PUSH")
    paths = {"tinybird": "/v0/pipes/", "keboola": "/jobs", "airbyte": "/v1/jobs", "acme": "/acme/v2/runs"}
    return sum(
        1 for entry in live.requests()
        if entry["method"] == "POST" and entry["path"].split("?")[0].startswith(paths[api])
        and not entry["path"].endswith(("/kill", "/abort", "/cancel"))
    )


def fault(live: Any, label: str, kind: str, times: int = 1) -> None:
    _, api, _, route = APIS[label]
    method = {} if api == "faktory" else {"method": "POST"}  # Airbyte's and Acme's start route also lists
    live.faults(api, {kind: 1.0}, route=route, times=times, **method)


@pytest.fixture
def quick(live: Any) -> Any:
    for api in ("tinybird", "keboola", "airbyte", "acme", "faktory"):
        live.set_defaults(api, queue_seconds=0.05, duration=0.1)
    return live


@pytest.mark.parametrize("way", ["sync", "async"])
@pytest.mark.parametrize("label", list(APIS))
def test_a_lost_answer_is_resolved_to_the_one_job_it_created(quick, label, way, capsys):
    fault(quick, label, "lost")

    outcome = start(label, way)

    (job,) = quick.jobs(APIS[label][1])
    assert (outcome.how, outcome.job.job_id, outcome.uncertain) == ("found", job["id"], 1)
    assert starts_sent(quick, label) == 1, "the start was not sent again"
    logged = capsys.readouterr().out
    assert f"Found {JobsHook(APIS[label][0]).api.name} job {job['id']}" in logged
    assert "created by the uncertain start" in logged
    assert TOKEN not in logged


@pytest.mark.parametrize("way", ["sync", "async"])
@pytest.mark.parametrize("label", list(APIS))
def test_a_start_the_api_never_saw_is_sent_again_once(quick, label, way, capsys):
    fault(quick, label, "dropped")

    outcome = start(label, way)

    (job,) = quick.jobs(APIS[label][1])
    assert (outcome.how, outcome.job.job_id) == ("resent", job["id"])
    assert starts_sent(quick, label) == 2
    assert "the API never saw the start; sending it again, once" in capsys.readouterr().out


@pytest.mark.parametrize("label", list(APIS))
def test_two_starts_the_api_never_saw_are_not_followed_by_a_third(quick, label):
    fault(quick, label, "dropped", times=2)

    with pytest.raises(JobStartUncertainError) as caught:
        start(label, "sync")

    assert quick.jobs(APIS[label][1]) == []
    assert starts_sent(quick, label) == 2
    assert "Not sent a third time" in str(caught.value)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("label", [label for label in APIS if label != "faktory"])  # a jid is unique
def test_several_candidates_fail_the_start_listing_them(quick, label):
    conn_id, api, spec, _ = APIS[label]
    earlier = JobsHook(conn_id).start_job(spec)
    if label == "airbyte":  # one job per connection at a time: the earlier one must end first (a 409 otherwise)
        poll_until(lambda: JobsHook(conn_id).get_job(earlier.job_id).status.is_terminal, timeout=10)
    fault(quick, label, "lost")

    with pytest.raises(JobStartUncertainError) as caught:
        start(label, "sync")

    jobs = quick.jobs(api)
    assert len(jobs) == 2, "nothing was sent again"
    message = str(caught.value)
    assert "2 " in message and "which one it started cannot be told" in message
    for job in jobs:
        assert job["id"] in message


def test_a_failed_lookup_leaves_the_start_uncertain(quick):
    fault(quick, "tinybird", "lost")
    quick.faults("tinybird", {"5xx": 1.0}, route="jobs", seed=3)

    with pytest.raises(JobStartUncertainError) as caught:
        start("tinybird", "sync")

    assert "looking for the job it may have created failed too" in str(caught.value)
    assert starts_sent(quick, "tinybird") == 1


def test_resolving_can_be_turned_off(quick):
    fault(quick, "keboola", "lost")

    with pytest.raises(JobStartUncertainError):
        start("keboola", "sync", resolve_uncertain=False)

    assert starts_sent(quick, "keboola") == 1


def test_a_rest_connection_without_a_lookup_says_what_to_add(quick, monkeypatch):
    import json
    import os

    conn = json.loads(os.environ["AIRFLOW_CONN_JOBS_ACME"])
    for key in ("start_match", "list_created_after", "created_field"):
        conn["extra"].pop(key)
    monkeypatch.setenv("AIRFLOW_CONN_JOBS_ACME", json.dumps(conn))
    fault(quick, "rest", "lost")

    with pytest.raises(JobStartUncertainError) as caught:
        start("rest", "sync")

    assert "add extra 'start_match'" in str(caught.value)
    assert starts_sent(quick, "rest") == 1
