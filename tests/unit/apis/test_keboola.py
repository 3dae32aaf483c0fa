"""Keboola Queue API adapter (reference: job-apis.md §2), tested as plain data in and out."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_jobs_provider.apis.exchange import Response
from airflow_jobs_provider.apis.job import JobStatus
from airflow_jobs_provider.apis.keboola import LIST_FILTERS, STATES, KeboolaApi
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

QUEUE_URL = "https://queue.keboola.com"
JOB_ID = "807932655"
SPEC = {"component": "keboola.ex-db-snowflake", "config": "554424643"}


def keboola(overrides: dict[str, str] | None = None) -> KeboolaApi:
    settings = ApiSettings(conn_id="kbc", api="keboola", base_url=QUEUE_URL, token=TOKEN)
    api = build_api(settings, overrides)
    assert isinstance(api, KeboolaApi)
    return api


@pytest.fixture
def api() -> KeboolaApi:
    return keboola()


def job_body(status: str, **fields: Any) -> dict[str, Any]:
    """The developers-docs job object: empty objects as ``[]``, as PHP serializes them."""
    finished = status in ("success", "warning", "error", "cancelled", "terminated")
    return {
        "id": JOB_ID, "runId": JOB_ID, "parentRunId": "", "status": status, "desiredStatus": "processing",
        "mode": "run", "component": "keboola.ex-db-snowflake", "config": "554424643", "configData": [],
        "configRowIds": [], "tag": "5.5.0", "createdTime": "2022-01-25T16:34:40+00:00", "startTime": None,
        "endTime": None, "durationSeconds": 0, "result": [], "usageData": [], "isFinished": finished,
        "url": f"{QUEUE_URL}/jobs/{JOB_ID}", "branchId": None, "variableValuesData": {"values": []},
        "backend": [], "metrics": [], "behavior": {"onError": None}, "parallelism": None, "type": "standard",
        **fields,
    }  # fmt: skip


def detail(status: str, **fields: Any) -> Response:
    return Response(200, job_body(status, **fields))


# ---------------------------------------------------------------- states (§2.2)

DOCUMENTED_STATES = {
    "created": JobStatus.PENDING,
    "waiting": JobStatus.PENDING,
    "processing": JobStatus.RUNNING,
    "terminating": JobStatus.RUNNING,  # a kill was asked; the job has not stopped yet
    "success": JobStatus.SUCCEEDED,
    "warning": JobStatus.FAILED,  # finished, but a child job failed: not a success unless a task says so
    "error": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,  # killed before it started
    "terminated": JobStatus.CANCELLED,  # killed while processing
}


def test_the_state_table_is_exactly_the_nine_openapi_states():
    assert STATES == DOCUMENTED_STATES


@pytest.mark.parametrize(("raw", "canonical"), DOCUMENTED_STATES.items())
def test_each_raw_state_maps_as_documented(api, raw, canonical):
    job = api.parse_job(detail(raw), JOB_ID)
    assert (job.status, job.raw_status) == (canonical, raw)


def test_warning_fails_by_default_and_says_how_to_accept_it(api):
    job = api.parse_job(detail("warning", result={"message": "Orchestration finished with a failed task"}), JOB_ID)
    assert job.status is JobStatus.FAILED
    assert job.message is not None
    assert job.message.startswith("Orchestration finished with a failed task")
    assert "status_overrides={'warning': 'SUCCEEDED'}" in job.message


def test_warning_is_success_when_the_task_maps_it():
    job = keboola({"warning": "SUCCEEDED"}).parse_job(detail("warning"), JOB_ID)
    assert job.status is JobStatus.SUCCEEDED
    assert job.message is None


def test_an_unknown_state_that_is_not_finished_keeps_the_task_waiting(api):
    job = api.parse_job(detail("suspended", isFinished=False), JOB_ID)
    assert job.status is JobStatus.RUNNING
    assert job.raw_status == "suspended"
    assert "(raw: suspended)" in job.describe()


def test_an_unknown_finished_state_fails_naming_the_state_never_succeeds(api):
    job = api.parse_job(detail("completed", isFinished=True), JOB_ID)
    assert job.status is JobStatus.FAILED
    assert job.message is not None and "'completed'" in job.message
    assert "status_overrides={'completed': 'SUCCEEDED'}" in job.message


def test_a_task_override_beats_the_is_finished_rule():
    job = keboola({"completed": "SUCCEEDED"}).parse_job(detail("completed", isFinished=True), JOB_ID)
    assert job.status is JobStatus.SUCCEEDED


@pytest.mark.parametrize("flag", [None, "true", 1])
def test_an_unknown_state_without_a_usable_is_finished_is_an_unknown_state_error(api, flag):
    with pytest.raises(UnknownJobStateError, match="'completed'"):
        api.parse_job(detail("completed", isFinished=flag), JOB_ID)


def test_is_finished_does_not_change_a_known_state(api):
    assert api.parse_job(detail("processing", isFinished=True), JOB_ID).status is JobStatus.RUNNING


# ---------------------------------------------------------------- the job object (§2.3)


def test_a_fresh_job_with_empty_arrays_for_objects_parses(api):
    job = api.parse_job(detail("created"), JOB_ID)
    assert job.job_id == JOB_ID
    assert job.url == f"{QUEUE_URL}/jobs/{JOB_ID}"
    assert job.message is None
    assert job.progress is None


@pytest.mark.parametrize("empty", [[], {}, None])
def test_result_may_be_an_array_an_object_or_missing(api, empty):
    job = api.parse_job(detail("error", result=empty, configData=empty, backend=empty, metrics=empty), JOB_ID)
    assert job.status is JobStatus.FAILED
    assert job.message is None


def test_error_result_carries_message_type_and_exception_id(api):
    result = {"message": "Table in.c-main.x not found", "error": {"type": "user", "exceptionId": "exception-7d1"}}
    job = api.parse_job(detail("error", result=result), JOB_ID)
    assert job.message == "Table in.c-main.x not found (user error, exceptionId exception-7d1)"


def test_a_string_result_error_is_kept(api):
    job = api.parse_job(detail("error", result={"error": "out of memory"}), JOB_ID)
    assert job.message == "out of memory"


def test_payload_keeps_run_ids_duration_and_statistics_cut_to_size_but_not_config_data(api):
    body = job_body("success", id=JOB_ID, runId=f"111.{JOB_ID}", parentRunId="111", durationSeconds=35)
    body["result"] = {"message": "Component processing finished.", "output": {"tables": [{"id": "x"}] * 50}}
    body["metrics"] = {"storage": {"inputTablesBytesSum": 10, "outputTablesBytesSum": 20}, "#secret": "KBC::x"}
    body["configData"] = {"parameters": {"#password": "KBC::ProjectSecure::y"}}
    job = api.parse_job(Response(200, body), JOB_ID)
    assert job.payload["runId"] == f"111.{JOB_ID}"
    assert job.payload["parentRunId"] == "111"
    assert job.payload["durationSeconds"] == 35
    assert job.payload["isFinished"] is True
    assert "configData" not in job.payload
    assert len(job.payload["result"]["output"]["tables"]) == 25, "lists are cut to size"
    assert job.payload["metrics"] == {"storage": {"inputTablesBytesSum": 10, "outputTablesBytesSum": 20}}
    assert job.message == "Component processing finished."


def test_empty_result_and_metrics_sent_as_php_arrays_are_empty_objects(api):
    job = api.parse_job(Response(200, job_body("processing", result=[], metrics=[])), JOB_ID)
    assert job.payload["result"] == {} and job.payload["metrics"] == {}


def test_numeric_ids_and_a_missing_url_are_tolerated(api):
    body = job_body("processing", id=807932655)
    del body["url"]
    job = api.parse_job(Response(200, body), JOB_ID)
    assert job.job_id == JOB_ID
    assert job.url == f"{QUEUE_URL}/jobs/{JOB_ID}"


def test_an_answer_without_a_status_is_an_api_error(api):
    with pytest.raises(JobsApiError, match="no 'status'"):
        api.parse_job(Response(200, {"id": JOB_ID}), JOB_ID)


# ---------------------------------------------------------------- start (POST /jobs)


def test_start_posts_keboola_fields_with_the_token_header(api):
    spec = {**SPEC, "configRowIds": ["12345", 67890], "branchId": "9", "tag": "5.5.0", "backend": {"type": "small"}}
    request = api.start_request(spec)
    assert (request.method, request.path, request.replayable) == ("POST", "/jobs", False)
    assert request.json == {
        "component": "keboola.ex-db-snowflake", "config": "554424643", "mode": "run",
        "configRowIds": ["12345", "67890"], "branchId": "9", "tag": "5.5.0", "backend": {"type": "small"},
    }  # fmt: skip
    assert request.headers == {"X-StorageApi-Token": TOKEN}
    assert TOKEN not in request.url(QUEUE_URL)


def test_parent_run_id_travels_as_the_run_id_header_not_in_the_body(api):
    request = api.start_request({**SPEC, "parentRunId": "123.456"})
    assert request.headers["X-KBC-RunId"] == "123.456"
    assert "parentRunId" not in request.json


@pytest.mark.parametrize("empty", [None, ""])
def test_an_empty_parent_run_id_means_no_parent(api, empty):
    request = api.start_request({**SPEC, "parentRunId": empty})
    assert "X-KBC-RunId" not in request.headers


@pytest.mark.parametrize("bad", ["abc", "1.", "1\r\nX-Evil: 1", " 12", 1.5])
def test_a_parent_run_id_that_is_no_run_id_is_refused(api, bad):
    with pytest.raises(JobsConfigError, match="parentRunId"):
        api.start_request({**SPEC, "parentRunId": bad})


def test_inline_configuration_and_debug_mode(api):
    request = api.start_request({"component": "c", "configData": {"parameters": {"a": 1}}, "mode": "debug"})
    assert request.json == {"component": "c", "configData": {"parameters": {"a": 1}}, "mode": "debug"}


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ({"config": "1"}, "needs 'component'"),
        ({"component": "", "config": "1"}, "needs 'component'"),
        ({"component": "c"}, "'config'"),
        ({"component": "c", "config": "1", "mode": "fast"}, "mode must be one of run, forceRun, debug"),
        ({"component": "c", "configData": "x"}, "'configData' must be an object"),
        ({"component": "c", "config": True}, "'config' must be a configuration id"),
        ({"component": "c", "config": "1", "configRowIds": "12"}, "'configRowIds' must be a list"),
        ({"component": "c", "config": "1", "delay": 5, "delayedStartTime": "x"}, "not both"),
        ({"component": "c", "config": "1", "configId": "1"}, "unknown key(s) configId"),
    ],
)
def test_an_unusable_spec_is_refused_before_anything_is_sent(api, spec, complaint):
    with pytest.raises(JobsConfigError) as caught:
        api.start_request(spec)
    assert complaint in str(caught.value)


def test_start_reads_the_created_job_and_its_url(api, script):
    body = job_body("created", url=f"{QUEUE_URL}/jobs/{JOB_ID}")
    job = script(Response(201, body)).run(api.start_job(SPEC))
    assert (job.job_id, job.status, job.url) == (JOB_ID, JobStatus.PENDING, f"{QUEUE_URL}/jobs/{JOB_ID}")


def test_a_created_answer_without_an_id_is_an_api_error(api, script):
    with pytest.raises(JobsApiError, match="no job id"):
        script(Response(201, {"status": "created"})).run(api.start_job(SPEC))


# ---------------------------------------------------------------- get and kill


def test_get_and_kill_address_one_encoded_job(api):
    assert api.get_request(JOB_ID).path == f"/jobs/{JOB_ID}"
    kill = api.cancel_request(JOB_ID)
    assert (kill.method, kill.path) == ("POST", f"/jobs/{JOB_ID}/kill")
    assert api.get_request("../search/jobs").path == "/jobs/..%2Fsearch%2Fjobs"
    with pytest.raises(InvalidJobIdError):
        api.get_request("")


def test_kill_answer_202_is_the_job(api, script):
    job = script(Response(202, job_body("terminating", desiredStatus="terminating"))).run(api.cancel_job(JOB_ID))
    assert (job.status, job.raw_status) == (JobStatus.RUNNING, "terminating")


# ---------------------------------------------------------------- search (GET /search/jobs)


def query_of(request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url(QUEUE_URL)).query)


def test_list_filters_use_the_bracket_form_for_multi_value_filters(api):
    request = api.list_request({"status": ["success", "error"], "componentId": "c1", "limit": 10, "sortOrder": "asc"})
    assert (request.method, request.path) == ("GET", "/search/jobs")
    assert "status%5B%5D=success&status%5B%5D=error" in request.url(QUEUE_URL)
    assert query_of(request) == {
        "status[]": ["success", "error"], "componentId[]": ["c1"], "limit": ["10"], "sortOrder": ["asc"],
    }  # fmt: skip


def test_deprecated_filter_names_become_the_current_ones(api):
    assert query_of(api.list_request({"component": "c", "config": ["1", "2"]})) == {
        "componentId[]": ["c"],
        "configId[]": ["1", "2"],
    }


@pytest.mark.parametrize(
    ("filters", "complaint"),
    [
        ({"kind": "copy"}, "cannot filter jobs by kind"),
        ({"component": "a", "componentId": "b"}, "are the same"),
        ({"limit": [1, 2]}, "takes one value"),
        ({"status": []}, "empty list"),
    ],
)
def test_unusable_filters_are_refused(api, filters, complaint):
    with pytest.raises(JobsConfigError) as caught:
        api.list_request(filters)
    assert complaint in str(caught.value)


def test_unknown_filter_error_lists_the_allowed_ones(api):
    with pytest.raises(JobsConfigError) as caught:
        api.list_request({"pipe": "x"})
    assert all(name in str(caught.value) for name in LIST_FILTERS)


def test_list_parses_the_bare_array(api, script):
    second = job_body("error", id="2", url=f"{QUEUE_URL}/jobs/2")
    jobs = script(Response(200, [job_body("success"), second])).run(api.list_jobs({}))
    assert [(job.job_id, job.status) for job in jobs] == [(JOB_ID, JobStatus.SUCCEEDED), ("2", JobStatus.FAILED)]


@pytest.mark.parametrize("body", [{"jobs": []}, [1, 2], "<html>"])
def test_a_list_answer_that_is_not_an_array_of_jobs_is_an_api_error(api, script, body):
    with pytest.raises(JobsApiError):
        script(Response(200, body)).run(api.list_jobs({}))


def test_probe_is_one_cheap_search(api, script):
    driver = script(Response(200, []))
    assert "keboola" in driver.run(api.probe())
    assert query_of(driver.requests[0]) == {"limit": ["1"]}


# ---------------------------------------------------------------- errors (§2.5)


def error(status: int, message: str, **fields: Any) -> Response:
    return Response(status, {"error": message, "code": status, "status": "error", **fields})


def test_api_errors_carry_keboola_text_exception_id_and_error_code(api, script):
    answer = error(400, "The value foobar is invalid", exceptionId="job-runner-1234567890",
                   context={"errorCode": "some.error"})  # fmt: skip
    with pytest.raises(JobsApiError) as caught:
        script(answer).run(api.start_job(SPEC))
    text = str(caught.value)
    assert "The value foobar is invalid" in text
    assert "exceptionId job-runner-1234567890" in text
    assert "errorCode some.error" in text
    assert caught.value.http_status == 400


def test_an_unknown_job_is_not_found_with_its_exception_id(api, script):
    with pytest.raises(JobNotFoundError) as caught:
        script(error(404, 'Job "1" not found', exceptionId="job-queue-42", context=[])).run(api.get_job("1"))
    assert "exceptionId job-queue-42" in str(caught.value)
    assert "errorCode" not in str(caught.value)


def test_a_refused_token_is_an_auth_error_that_never_shows_the_token(api, script):
    with pytest.raises(JobsAuthError) as caught:
        script(error(401, "Invalid access token", exceptionId="x-1")).run(api.get_job(JOB_ID))
    assert "Invalid access token" in str(caught.value)
    assert "check the token" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_an_error_without_keboola_fields_keeps_the_base_message(api, script):
    with pytest.raises(JobsApiError) as caught:
        script(Response(500, "Internal Server Error occurred.")).run(api.list_jobs({}))
    assert str(caught.value).endswith("(HTTP 500: Internal Server Error occurred.)")
