"""The declarative REST adapter: any jobs API described in the connection's extras, no code."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from airflow_jobs_provider.apis.exchange import Response
from airflow_jobs_provider.apis.job import JobStatus
from airflow_jobs_provider.apis.rest import RestApi
from airflow_jobs_provider.exceptions import (
    JobNotFoundError,
    JobsApiError,
    JobsAuthError,
    JobsConfigError,
    UnknownJobStateError,
)
from tests.support.api_settings import ACME_EXTRAS, ACME_URL, TOKEN, acme_settings

RUN = {"id": "run-42", "state": "RUNNING", "progress": 40, "error": None, "links": {"ui": "https://acme.example/ui/42"}}


def acme_with(**changes: Any) -> RestApi:
    """The Acme config with some extras changed; a value of None removes the key."""
    extras = copy.deepcopy(ACME_EXTRAS)
    for key, value in changes.items():
        if value is None:
            extras.pop(key, None)
        else:
            extras[key] = value
    return RestApi(acme_settings(extras))


# ---------------------------------------------------------------- requests


def test_start_request_posts_the_spec_as_json_and_is_not_replayable(acme):
    spec = {"pipeline": "nightly", "params": {"day": "2024-07-22"}}
    request = acme.start_request(spec)
    assert (request.method, request.path, request.json) == ("POST", "/acme/v2/runs", spec)
    assert request.replayable is False
    assert request.json is not spec  # a copy: later changes to the spec do not leak in


@pytest.mark.parametrize(
    ("build", "method", "path"),
    [
        (lambda api: api.get_request("run/42?x"), "GET", "/acme/v2/runs/run%2F42%3Fx"),
        (lambda api: api.cancel_request("run/42?x"), "POST", "/acme/v2/runs/run%2F42%3Fx/abort"),
        (lambda api: api.list_request({}), "GET", "/acme/v2/runs"),
    ],
    ids=["get", "cancel", "list"],
)
def test_requests_follow_the_extras(acme, build, method, path):
    request = build(acme)
    assert (request.method, request.path) == (method, path)
    assert request.headers == {"X-Api-Key": TOKEN}  # auth_header with an empty auth_scheme: the bare token
    assert request.replayable is True


def test_list_filters_become_string_params(acme):
    request = acme.list_request({"state": "RUNNING", "limit": 5, "after": None})
    assert request.params == {"state": "RUNNING", "limit": "5"}


def test_default_auth_is_an_authorization_bearer_header():
    api = acme_with(auth_header=None, auth_scheme=None)
    assert api.get_request("1").headers == {"Authorization": f"Bearer {TOKEN}"}


def test_a_custom_scheme_goes_before_the_token():
    api = acme_with(auth_header=None, auth_scheme="Token")
    assert api.get_request("1").headers == {"Authorization": f"Token {TOKEN}"}


def test_no_token_means_no_auth_header():
    api = RestApi(acme_settings(token=None))
    assert api.get_request("1").headers == {}


def test_methods_are_read_in_any_case():
    api = acme_with(get="get /acme/v2/runs/{job_id}")
    assert api.get_request("1").method == "GET"


@pytest.mark.parametrize("operation", ["cancel", "list"])
def test_a_missing_optional_endpoint_fails_when_used_and_names_the_extra(operation):
    api = acme_with(**{operation: None})
    build = api.cancel_request if operation == "cancel" else (lambda _: api.list_request({}))
    with pytest.raises(JobsConfigError, match=f"no '{operation}' endpoint: add extra '{operation}'"):
        build("1")


def test_probe_without_a_list_endpoint_sends_nothing(script):
    api = acme_with(list=None)
    run = script()
    assert "is configured" in run.run(api.probe())
    assert run.requests == []


def test_probe_with_a_list_endpoint_calls_it(acme, script):
    run = script(Response(200, {"runs": []}))
    assert run.run(acme.probe()) == f"Connected to the rest API at {ACME_URL}"
    assert run.requests[0].path == "/acme/v2/runs"


# ---------------------------------------------------------------- parsing


def test_parse_job_reads_the_nested_fields(acme):
    job = acme.parse_job(Response(200, {"run": RUN}), "run-42")
    assert job.job_id == "run-42"
    assert job.status is JobStatus.RUNNING
    assert job.raw_status == "RUNNING"
    assert job.progress == 40.0
    assert job.url == "https://acme.example/ui/42"
    assert job.message is None
    assert job.payload == RUN  # the job object under job_root, not the envelope


def test_parse_job_carries_the_error_message(acme):
    failed = {**RUN, "state": "FAILED", "error": "out of memory"}
    job = acme.parse_job(Response(200, {"run": failed}), "run-42")
    assert (job.status, job.message) == (JobStatus.FAILED, "out of memory")


def test_dotted_paths_reach_deep_fields():
    api = acme_with(job_root="data.items.0", id_field="meta.uid", state_field="status.phase",
                    message_field="status.reason", progress_field="status.pct", url_field="meta.href")
    body = {"data": {"items": [{"meta": {"uid": 7, "href": "https://ui/7"},
                                "status": {"phase": "SUCCEEDED", "reason": "ok", "pct": "100"}}]}}
    job = api.parse_job(Response(200, body), "ignored")
    assert (job.job_id, job.status, job.message, job.progress, job.url) == (
        "7", JobStatus.SUCCEEDED, "ok", 100.0, "https://ui/7")


def test_without_job_root_the_answer_itself_is_the_job():
    api = acme_with(job_root=None)
    assert api.parse_job(Response(200, RUN), "run-42").job_id == "run-42"


def test_parse_started_needs_an_id_in_the_answer(acme):
    assert acme.parse_started(Response(201, {"run": {"id": "new", "state": "QUEUED"}})).status is JobStatus.PENDING
    with pytest.raises(JobsApiError, match="no job id at 'id': check extra 'id_field'"):
        acme.parse_started(Response(201, {"run": {"state": "QUEUED"}}))


def test_a_read_answer_without_id_keeps_the_id_asked_for(acme):
    assert acme.parse_job(Response(200, {"run": {"state": "QUEUED"}}), "run-9").job_id == "run-9"


@pytest.mark.parametrize("run", [{"id": "1"}, {"id": "1", "state": None}, {"id": "1", "state": {"x": 1}},
                                 {"id": "1", "state": ["RUNNING"]}])
def test_an_answer_without_a_state_names_state_field(acme, run):
    with pytest.raises(JobsApiError, match="no state at 'state': check extra 'state_field'"):
        acme.parse_job(Response(200, {"run": run}), "1")


@pytest.mark.parametrize("body", [{"job": RUN}, {"run": "RUNNING"}, {"run": None}])
def test_an_answer_without_the_job_object_names_job_root(acme, body):
    with pytest.raises(JobsApiError, match="no job object at 'run': check extra 'job_root'"):
        acme.parse_job(Response(200, body), "1")


def test_an_unmapped_state_is_an_unknown_state_error(acme):
    with pytest.raises(UnknownJobStateError, match=r"'PAUSED'.*status_overrides"):
        acme.parse_job(Response(200, {"run": {**RUN, "state": "PAUSED"}}), "run-42")


def test_status_overrides_apply_on_top_of_the_extras_states():
    api = RestApi(acme_settings(), status_overrides={"PAUSED": "RUNNING", "ABORTING": "CANCELLED"})
    assert api.parse_job(Response(200, {"run": {**RUN, "state": "PAUSED"}}), "1").status is JobStatus.RUNNING
    assert api.parse_job(Response(200, {"run": {**RUN, "state": "ABORTING"}}), "1").status is JobStatus.CANCELLED


@pytest.mark.parametrize(("raw", "canonical"), [(1, JobStatus.PENDING), (3, JobStatus.RUNNING),
                                                 (10, JobStatus.SUCCEEDED), (20, JobStatus.FAILED),
                                                 (30, JobStatus.CANCELLED)])
def test_integer_raw_states_map_through_string_keys(raw, canonical):
    # dbt Cloud style: numeric run statuses; JSON object keys are always strings
    api = acme_with(job_root="data", states={"1": "PENDING", "3": "RUNNING", "10": "SUCCEEDED",
                                             "20": "FAILED", "30": "CANCELLED"})
    job = api.parse_job(Response(200, {"data": {"id": 99, "state": raw}}), "99")
    assert (job.status, job.raw_status, job.job_id) == (canonical, str(raw), "99")


def test_states_with_non_string_keys_still_match():
    api = acme_with(job_root=None, states={10: "SUCCEEDED", 20: "failed"})
    assert api.parse_job(Response(200, {"id": 1, "state": 20}), "1").status is JobStatus.FAILED


def test_parse_list_reads_list_root(acme):
    body = {"runs": [RUN, {"id": "run-43", "state": "ABORTED"}], "next": None}
    jobs = acme.parse_list(Response(200, body))
    assert [(j.job_id, j.status) for j in jobs] == [("run-42", JobStatus.RUNNING), ("run-43", JobStatus.CANCELLED)]


def test_parse_list_at_the_top_level():
    api = acme_with(list_root=None)
    assert [j.job_id for j in api.parse_list(Response(200, [RUN]))] == ["run-42"]


def test_parse_list_without_an_array_names_list_root(acme):
    with pytest.raises(JobsApiError, match="no array at runs: set extra 'list_root'"):
        acme.parse_list(Response(200, {"items": []}))


# ---------------------------------------------------------------- exchanges


def test_start_job_exchange(acme, script):
    run = script(Response(201, {"run": {"id": "new-1", "state": "QUEUED", "links": {"ui": "https://u/1"}}}))
    job = run.run(acme.start_job({"pipeline": "nightly"}))
    assert (job.job_id, job.status, job.url) == ("new-1", JobStatus.PENDING, "https://u/1")


def test_cancel_answer_with_a_state_is_used_as_is(acme, script):
    run = script(Response(200, {"run": {**RUN, "state": "ABORTING"}}))
    job = run.run(acme.cancel_job("run-42"))
    assert job.status is JobStatus.RUNNING
    assert [(r.method, r.path) for r in run.requests] == [("POST", "/acme/v2/runs/run-42/abort")]


@pytest.mark.parametrize(
    "answer",
    [Response(202, {"accepted": True}), Response(204, None), Response(200, {"run": {"id": "run-42"}}),
     Response(202, "Accepted")],
    ids=["202 without state", "204 no body", "200 job without state", "202 text"],
)
def test_cancel_answer_without_a_state_reads_the_job_back(acme, script, answer):
    run = script(answer, Response(200, {"run": {**RUN, "state": "ABORTED"}}))
    job = run.run(acme.cancel_job("run-42"))
    assert job.status is JobStatus.CANCELLED
    assert [(r.method, r.path) for r in run.requests] == [
        ("POST", "/acme/v2/runs/run-42/abort"),
        ("GET", "/acme/v2/runs/run-42"),
    ]


@pytest.mark.parametrize(("status", "error"), [(404, JobNotFoundError), (401, JobsAuthError)])
def test_cancel_errors_stop_before_reading_back(acme, script, status, error):
    run = script(Response(status, {"message": "no such run"}))
    with pytest.raises(error, match="no such run"):
        run.run(acme.cancel_job("run-42"))
    assert len(run.requests) == 1


@pytest.mark.parametrize(("state", "refused"), [("SUCCEEDED", True), ("ABORTED", False)])
def test_a_refused_cancel_reads_the_job_back_and_stands_unless_it_is_cancelled(acme, script, state, refused):
    run = script(Response(409, {"message": "run is already finished"}), Response(200, {"run": {**RUN, "state": state}}))
    if refused:
        with pytest.raises(JobsApiError, match="run is already finished"):
            run.run(acme.cancel_job("run-42"))
    else:
        assert run.run(acme.cancel_job("run-42")).status is JobStatus.CANCELLED
    assert [r.method for r in run.requests] == ["POST", "GET"]


def test_get_job_404_is_job_not_found(acme, script):
    with pytest.raises(JobNotFoundError, match="check the job id and the host of connection 'acme'"):
        script(Response(404, {"detail": "Not Found"})).run(acme.get_job("run-42"))


# ---------------------------------------------------------------- config errors name the extra key


@pytest.mark.parametrize("key", ["start", "get", "id_field", "state_field", "states"])
def test_each_required_extra_is_named_when_missing(key):
    with pytest.raises(JobsConfigError, match=f"'acme'.*lacks extra {key}"):
        acme_with(**{key: None})


def test_all_missing_extras_are_named_at_once():
    with pytest.raises(JobsConfigError, match="lacks extra start, get, id_field, state_field, states"):
        RestApi(acme_settings({"api": "rest"}))


@pytest.mark.parametrize("key", ["start", "get", "cancel", "list"])
@pytest.mark.parametrize("text", ["/acme/v2/runs", "POST", "FETCH /acme/v2/runs", "POST acme/v2/runs",
                                  "POST /a /b", 42])
def test_endpoints_must_read_method_and_path(key, text):
    with pytest.raises(JobsConfigError, match=f"extra '{key}' must read 'METHOD /path'"):
        acme_with(**{key: text})


def test_the_get_path_must_hold_the_job_id():
    with pytest.raises(JobsConfigError, match=r"extra 'get' must contain \{job_id\}"):
        acme_with(get="GET /acme/v2/runs/latest")


@pytest.mark.parametrize(
    ("states", "says"),
    [
        ({"QUEUED": "WAITING", "OK": "SUCCEEDED"}, r"extra states\['QUEUED'\]: 'WAITING' is not a job status"),
        ({"OK": "SUCCEEDED", "BAD": None}, r"extra states\['BAD'\]"),
        ({"QUEUED": "PENDING", "FAILED": "FAILED"}, "extra 'states' maps no raw state to SUCCEEDED"),
        (["QUEUED", "SUCCEEDED"], "extra 'states' must map each raw state"),
        ("SUCCEEDED", "extra 'states' must map each raw state"),
    ],
)
def test_bad_states_name_the_extra(states, says):
    with pytest.raises(JobsConfigError, match=says):
        acme_with(states=states)


@pytest.mark.parametrize("key", ["id_field", "state_field", "job_root", "list_root", "message_field",
                                 "progress_field", "url_field"])
def test_field_paths_must_be_strings(key):
    with pytest.raises(JobsConfigError, match=f"extra '{key}' must be a dotted path string"):
        acme_with(**{key: ["a", "b"]})
