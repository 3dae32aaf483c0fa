"""Airbyte public API v1 adapter (reference: job-apis.md §3), tested as plain data in and out.

Auth has its own file (test_airbyte_auth.py); here the connection uses a static bearer token.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_jobs_provider.apis.airbyte.api import LIST_FILTERS, STATES, AirbyteApi, checked_job_id, problem_text
from airflow_jobs_provider.apis.exchange import Response
from airflow_jobs_provider.apis.job import JobStatus
from airflow_jobs_provider.apis.registry import build_api
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.exceptions import (
    InvalidJobIdError,
    JobNotFoundError,
    JobsApiError,
    JobsAuthError,
    JobsConfigError,
    UnknownJobStateError,
)
from tests.support.api_settings import TOKEN
from tests.support.scripted import Script

BASE = "https://api.airbyte.com/v1"
CONNECTION = "e735894a-e773-4938-969f-45f53957b75b"
WORKSPACE = "9924bcd0-99be-453d-ba47-c2c9766f7da5"


def settings(**changes: Any) -> ApiSettings:
    values: dict[str, Any] = {"conn_id": "ab", "api": "airbyte", "base_url": BASE, "token": TOKEN}
    return ApiSettings(**{**values, **changes})


@pytest.fixture
def airbyte() -> AirbyteApi:
    return AirbyteApi(settings())


def job_body(status: str = "running", job_id: int = 1234, **fields: Any) -> dict[str, Any]:
    """The documented JobResponse example (§3.3)."""
    return {
        "jobId": job_id, "status": status, "jobType": "sync", "startTime": "2023-03-25T01:30:50Z",
        "connectionId": CONNECTION, "lastUpdatedAt": "2023-03-25T01:31:10Z", "duration": "PT20S",
        "bytesSynced": 0, "rowsSynced": 0, **fields,
    }


def problem(status: int, title: str, detail: str | None = None) -> Response:
    body: dict[str, Any] = {"status": status, "type": f"https://reference.airbyte.com/reference/errors#{title}",
                            "title": title}
    if detail is not None:
        body["detail"] = detail
    return Response(status, body, {"Content-Type": "application/problem+json"})


# ---------------------------------------------------------------- states

DOCUMENTED_STATES = {
    "pending": JobStatus.PENDING,
    "queued": JobStatus.PENDING,
    "running": JobStatus.RUNNING,
    "incomplete": JobStatus.RUNNING,  # an attempt failed, Airbyte retries: not the end
    "succeeded": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
}


def test_the_state_table_is_exactly_the_seven_job_statuses():
    assert STATES == DOCUMENTED_STATES


@pytest.mark.parametrize(("raw", "canonical"), DOCUMENTED_STATES.items())
def test_each_raw_state_maps_as_documented(airbyte, raw, canonical):
    job = airbyte.parse_job(Response(200, job_body(raw)), "1234")
    assert (job.status, job.raw_status) == (canonical, raw)


@pytest.mark.parametrize("raw", ["error", "SUCCEEDED", "", "reset"])
def test_an_unknown_state_fails_naming_it_and_the_way_out(airbyte, raw):
    with pytest.raises(UnknownJobStateError, match="status_overrides") as caught:
        airbyte.parse_job(Response(200, job_body(raw)), "1234")
    assert repr(raw) in str(caught.value)


def test_status_overrides_remap_a_state_for_this_task_only():
    strict = AirbyteApi(settings(), status_overrides={"incomplete": "FAILED"})
    assert strict.parse_job(Response(200, job_body("incomplete")), "1").status is JobStatus.FAILED
    assert AirbyteApi(settings()).parse_job(Response(200, job_body("incomplete")), "1").status is JobStatus.RUNNING


def test_build_api_picks_airbyte_from_the_connection():
    assert isinstance(build_api(settings()), AirbyteApi)


# ---------------------------------------------------------------- start

def test_start_posts_the_spec_in_airbyte_names_and_is_never_replayed(airbyte):
    request = airbyte.start_request({"connectionId": CONNECTION, "jobType": "sync"})
    assert (request.method, request.path) == ("POST", "/jobs")
    assert request.json == {"connectionId": CONNECTION, "jobType": "sync"}
    assert request.replayable is False
    assert request.url(BASE) == "https://api.airbyte.com/v1/jobs"


@pytest.mark.parametrize("job_type", ["sync", "reset", "clear"])
def test_sync_reset_and_clear_can_be_started(airbyte, job_type):
    assert airbyte.start_request({"connectionId": CONNECTION, "jobType": job_type}).json["jobType"] == job_type


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ({"jobType": "sync"}, "connectionId"),
        ({"connectionId": "", "jobType": "sync"}, "must be a UUID"),
        ({"connectionId": "my-connection", "jobType": "sync"}, "must be a UUID"),
        ({"connectionId": CONNECTION}, "jobType' must be one of sync, reset, clear"),
        ({"connectionId": CONNECTION, "jobType": "SYNC"}, "jobType' must be one of"),
        ({"connectionId": CONNECTION, "jobType": "refresh"}, "does not start refreshes"),
        ({"connection_id": CONNECTION, "jobType": "sync"}, "connection_id is spelled connectionId"),
        ({"connectionId": CONNECTION, "jobType": "sync", "wait": True}, "unknown field(s) wait"),
    ],
)
def test_bad_start_specs_are_config_errors_that_show_the_right_shape(airbyte, spec, says):
    with pytest.raises(JobsConfigError) as caught:
        airbyte.start_request(spec)
    assert says in str(caught.value)


def test_parse_started_reads_the_integer_job_id(airbyte):
    job = airbyte.parse_started(Response(200, job_body("pending", job_id=42)))
    assert (job.job_id, job.status, job.url) == ("42", JobStatus.PENDING, f"{BASE}/jobs/42")


@pytest.mark.parametrize("body", [{"status": "pending"}, job_body(job_id=None), job_body(job_id=True), "ok", None])
def test_a_start_answer_without_an_integer_job_id_is_an_api_error(airbyte, body):
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if value is not None}
    with pytest.raises(JobsApiError):
        airbyte.parse_started(Response(200, body))


def test_a_409_on_start_says_a_job_is_probably_running_already(airbyte):
    script = Script(problem(409, "state-conflict", f"A sync is already running for: {CONNECTION}"))
    with pytest.raises(JobsApiError) as caught:
        script.run(airbyte.start_job({"connectionId": CONNECTION, "jobType": "sync"}))
    text = str(caught.value)
    assert f"state-conflict: A sync is already running for: {CONNECTION}" in text
    assert "list_jobs(connectionId=..., status='running')" in text


def test_a_422_on_start_carries_title_and_detail(airbyte):
    script = Script(problem(422, "unprocessable-entity", "Refreshes are not supported in the public API"))
    with pytest.raises(JobsApiError, match="unprocessable-entity: Refreshes are not supported"):
        script.run(airbyte.start_job({"connectionId": CONNECTION, "jobType": "sync"}))


# ---------------------------------------------------------------- get / watch

def test_get_reads_the_job_and_carries_every_statistic_in_the_payload(airbyte):
    body = job_body("succeeded", bytesSynced=2048, rowsSynced=17, duration="PT1M2S")
    script = Script(Response(200, body))
    job = script.run(airbyte.get_job("1234"))
    (request,) = script.requests
    assert (request.method, request.path) == ("GET", "/jobs/1234")
    assert request.headers == {"Authorization": f"Bearer {TOKEN}"}
    assert job.status is JobStatus.SUCCEEDED
    for key in ("bytesSynced", "rowsSynced", "duration", "startTime", "lastUpdatedAt", "jobType", "connectionId"):
        assert job.payload[key] == body[key]
    assert job.url == f"{BASE}/jobs/1234"
    assert job.progress is None  # Airbyte gives no percentage


def test_a_failed_job_has_no_invented_message(airbyte):
    job = airbyte.parse_job(Response(200, job_body("failed")), "1234")
    assert job.status is JobStatus.FAILED
    assert job.message is None  # JobResponse carries no failure reason; the URL points at the job


@pytest.mark.parametrize("job_id", [1234, "1234"])
def test_job_ids_may_be_ints_or_digit_strings(job_id):
    assert checked_job_id(job_id) == "1234"


@pytest.mark.parametrize("job_id", ["abc", "12 34", "-1", "1.5", "../jobs", "", " 12", True, None, 1.5])
def test_other_job_ids_are_refused_before_any_request(airbyte, job_id):
    script = Script()
    with pytest.raises(InvalidJobIdError):
        script.run(airbyte.get_job(job_id))
    assert script.requests == []


@pytest.mark.parametrize("answer", [Response(404, None), problem(404, "resource-not-found", "Job 7 not found"),
                                    problem(400, "resource-not-found", "Job 7 not found")])
def test_a_missing_job_is_not_found_whichever_status_airbyte_uses(airbyte, answer):
    with pytest.raises(JobNotFoundError) as caught:
        Script(answer).run(airbyte.get_job("7"))
    assert "airbyte has no job 7" in str(caught.value)
    assert "check the job id" in str(caught.value)


def test_a_403_names_the_auth_mode_and_what_to_check(airbyte):
    with pytest.raises(JobsAuthError) as caught:
        Script(problem(403, "forbidden", "Caller does not have the required permissions")).run(airbyte.get_job("7"))
    text = str(caught.value)
    assert "forbidden: Caller does not have the required permissions" in text
    assert "auth bearer" in text and "password of connection 'ab'" in text
    assert caught.value.http_status == 403


@pytest.mark.parametrize("body", [job_body(status=None), job_body(status=3), [1, 2], "<html>"])
def test_a_job_answer_without_a_status_string_is_an_api_error(airbyte, body):
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if value is not None}
    with pytest.raises(JobsApiError):
        airbyte.parse_job(Response(200, body), "1234")


# ---------------------------------------------------------------- cancel

def test_cancel_deletes_the_job_and_reads_the_answer(airbyte):
    script = Script(Response(200, job_body("cancelled")))
    job = script.run(airbyte.cancel_job("1234"))
    (request,) = script.requests
    assert (request.method, request.path) == ("DELETE", "/jobs/1234")
    assert job.status is JobStatus.CANCELLED


def test_cancelling_an_ended_job_says_so(airbyte):
    refused = Script(problem(409, "state-conflict", "Job 12 is not running"), Response(200, job_body("succeeded", 12)))
    with pytest.raises(JobsApiError) as caught:
        refused.run(airbyte.cancel_job("12"))
    assert "will not cancel job 12" in str(caught.value)
    assert "ended already" in str(caught.value)
    assert [r.method for r in refused.requests] == ["DELETE", "GET"], "the job is read back before believing a 409"


def test_a_refused_cancel_of_a_cancelled_job_succeeds(airbyte):
    """The retry of a DELETE whose answer was lost: Airbyte refuses it, but the job is cancelled."""
    job = Script(problem(409, "state-conflict", "not running"), Response(200, job_body("cancelled", 12))).run(
        airbyte.cancel_job("12")
    )
    assert job.status is JobStatus.CANCELLED


# ---------------------------------------------------------------- list

def test_list_filters_go_out_in_airbyte_names_and_formats(airbyte):
    request = airbyte.list_request(
        {
            "connectionId": CONNECTION, "workspaceIds": [WORKSPACE, WORKSPACE.upper()], "jobType": "sync",
            "status": "running", "limit": 5, "offset": 10, "orderBy": "updatedAt|DESC",
            "createdAtStart": datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "createdAtEnd": datetime(2024, 1, 3), "updatedAtStart": date(2024, 1, 1),
            "updatedAtEnd": 1687450500000,
        }
    )
    assert request.params == {
        "connectionId": CONNECTION, "workspaceIds": [WORKSPACE, WORKSPACE.upper()], "jobType": "sync",
        "status": "running", "limit": "5", "offset": "10", "orderBy": "updatedAt|DESC",
        "createdAtStart": "2024-01-02T01:04:05Z", "createdAtEnd": "2024-01-03T00:00:00Z",
        "updatedAtStart": "2024-01-01T00:00:00Z", "updatedAtEnd": "1687450500000",
    }
    url = request.url(BASE)
    assert url.count("workspaceIds=") == 2, "workspaceIds explode into repeated parameters"
    assert "orderBy=updatedAt%7CDESC" in url


def test_none_filters_are_left_out_and_one_workspace_may_be_a_string(airbyte):
    request = airbyte.list_request({"status": None, "workspaceIds": WORKSPACE})
    assert request.params == {"workspaceIds": [WORKSPACE]}


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        ({"connection_id": CONNECTION}, "cannot filter jobs by connection_id"),
        ({"kind": "sync"}, "use Airbyte's own names: " + ", ".join(LIST_FILTERS)),
        ({"status": "done"}, "status must be one of pending"),
        ({"jobType": "copy"}, "jobType must be one of"),
        ({"limit": 0}, "limit must be a whole number 1..100"),
        ({"limit": 101}, "limit must be a whole number 1..100"),
        ({"limit": "5"}, "limit must be a whole number"),
        ({"offset": -1}, "offset must be a whole number >= 0"),
        ({"orderBy": "createdAt"}, "orderBy reads 'createdAt|DESC'"),
        ({"connectionId": [CONNECTION]}, "takes one value"),
        ({"connectionId": "not-a-uuid"}, "must be a UUID"),
        ({"workspaceIds": 7}, "a UUID or a list of them"),
        ({"createdAtStart": 1.5}, "takes a datetime or an ISO 8601 string"),
    ],
)
def test_bad_list_filters_are_config_errors(airbyte, filters, says):
    with pytest.raises(JobsConfigError) as caught:
        airbyte.list_request(filters)
    assert says in str(caught.value)


def test_list_parses_one_page_of_the_documented_envelope(airbyte):
    answer = Response(200, {"data": [job_body("running", 1), job_body("failed", 2)],
                            "next": f"{BASE}/jobs?limit=2&offset=2"})
    jobs = Script(answer).run(airbyte.list_jobs({"limit": 2}))
    assert [(job.job_id, job.status) for job in jobs] == [("1", JobStatus.RUNNING), ("2", JobStatus.FAILED)]


@pytest.mark.parametrize("body", [{"jobs": []}, {"data": [1]}, {"data": [{"status": "running"}]}])
def test_a_list_in_another_shape_is_an_api_error(airbyte, body):
    with pytest.raises(JobsApiError):
        Script(Response(200, body)).run(airbyte.list_jobs({}))


def test_probe_lists_one_job_and_names_host_and_auth(airbyte):
    script = Script(Response(200, {"data": []}))
    assert script.run(airbyte.probe()) == f"Connected to the airbyte API at {BASE} (auth: bearer)"
    assert script.requests[0].params == {"limit": "1"}


# ---------------------------------------------------------------- problem+json

@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"title": "bad-request", "detail": "jobType is required"}, "bad-request: jobType is required"),
        ({"title": "forbidden"}, "forbidden"),
        ({"title": "x", "detail": "x"}, "x"),
        ({"message": "legacy"}, "legacy"),
        ("Service Unavailable", "Service Unavailable"),
        (None, "(empty body)"),
    ],
)
def test_problem_text_reads_title_and_detail(body, text):
    assert problem_text(body) == text


def test_other_errors_keep_the_base_wording_with_the_problem_text(airbyte):
    with pytest.raises(JobsApiError) as caught:
        Script(problem(400, "bad-request", "limit must be <= 100")).run(airbyte.list_jobs({}))
    assert str(caught.value) == f"airbyte could not list jobs at {BASE} (HTTP 400: bad-request: limit must be <= 100)"


def test_a_redirect_is_not_followed(airbyte):
    answer = Response(302, None, {"Location": "https://elsewhere.example/v1/jobs/1"})
    with pytest.raises(JobsApiError, match="redirects are not followed"):
        Script(answer).run(airbyte.get_job("1"))


def test_an_error_echoing_the_token_is_redacted(airbyte):
    with pytest.raises(JobsAuthError) as caught:
        Script(problem(401, "invalid-api-key", f"token {TOKEN} is not valid")).run(airbyte.get_job("1"))
    assert TOKEN not in str(caught.value)
    assert "token *** is not valid" in str(caught.value)

