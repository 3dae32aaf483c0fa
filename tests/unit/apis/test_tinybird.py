"""Tinybird Jobs API adapter (reference: job-apis.md §1), tested as plain data in and out."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_jobs_provider.apis.exchange import Response
from airflow_jobs_provider.apis.job import JobStatus
from airflow_jobs_provider.apis.tinybird import LIST_FILTERS, STATES, TinybirdApi
from airflow_jobs_provider.exceptions import (
    InvalidJobIdError,
    JobNotFoundError,
    JobsApiError,
    JobsAuthError,
    JobsConfigError,
    UnknownJobStateError,
)
from tests.support.api_settings import TINYBIRD_URL, TOKEN, tinybird_settings

JOB_ID = "d5b869ed-3a74-45f9-af54-57350aae4cef"


def detail(status: str, **fields) -> Response:
    return Response(200, {"kind": "copy", "id": JOB_ID, "job_id": JOB_ID, "status": status, **fields})


# ---------------------------------------------------------------- states (§1.4)

DOCUMENTED_STATES = {
    "waiting": JobStatus.PENDING,
    "working": JobStatus.RUNNING,
    "cancelling": JobStatus.RUNNING,  # not terminal: the worker still has to stop
    "done": JobStatus.SUCCEEDED,
    "error": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
}


def test_the_state_table_is_exactly_the_six_server_states():
    assert STATES == DOCUMENTED_STATES


@pytest.mark.parametrize(("raw", "canonical"), DOCUMENTED_STATES.items())
def test_each_raw_state_maps_as_documented(tinybird, raw, canonical):
    job = tinybird.parse_job(detail(raw), JOB_ID)
    assert job.status is canonical
    assert job.raw_status == raw


@pytest.mark.parametrize("raw", ["queued", "DONE", "Done", "", "finished"])
def test_an_unknown_state_fails_naming_it_and_the_way_out(tinybird, raw):
    with pytest.raises(UnknownJobStateError) as caught:
        tinybird.parse_job(detail(raw), JOB_ID)
    text = str(caught.value)
    assert repr(raw) in text
    assert JOB_ID in text
    assert "status_overrides" in text
    assert "waiting" in text  # lists the states it does know


def test_status_overrides_rescue_an_unknown_state():
    api = TinybirdApi(tinybird_settings(), status_overrides={"queued": "pending"})
    assert api.parse_job(detail("queued"), JOB_ID).status is JobStatus.PENDING
    assert api.parse_job(detail("done"), JOB_ID).status is JobStatus.SUCCEEDED  # the rest stays


def test_status_overrides_can_remap_a_known_state():
    api = TinybirdApi(tinybird_settings(), status_overrides={"cancelling": "CANCELLED"})
    assert api.parse_job(detail("cancelling"), JOB_ID).status is JobStatus.CANCELLED


def test_status_overrides_do_not_leak_into_other_adapters():
    TinybirdApi(tinybird_settings(), status_overrides={"queued": "PENDING"})
    assert "queued" not in STATES
    with pytest.raises(UnknownJobStateError):
        TinybirdApi(tinybird_settings()).parse_job(detail("queued"), JOB_ID)


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"queued": "WAITING"}, "'WAITING' is not a job status"),
        ({"queued": None}, "is not a job status"),
        ({"": "RUNNING"}, "non-empty raw state"),
        ({3: "RUNNING"}, "non-empty raw state"),
        ([("queued", "PENDING")], "must be a dict"),
        ("queued=PENDING", "must be a dict"),
    ],
)
def test_invalid_status_overrides_are_config_errors(overrides, says):
    with pytest.raises(JobsConfigError, match=says):
        TinybirdApi(tinybird_settings(), status_overrides=overrides)


# ---------------------------------------------------------------- starting jobs (§1.6)


@pytest.mark.parametrize(
    ("spec", "path", "params"),
    [
        ({"kind": "copy", "pipe": "daily_rollup"}, "/v0/pipes/daily_rollup/copy", {}),
        (
            {"kind": "copy", "pipe": "daily rollup/v2", "_mode": "replace", "day": "2024-07-22"},
            "/v0/pipes/daily%20rollup%2Fv2/copy",
            {"_mode": "replace", "day": "2024-07-22"},
        ),
        ({"kind": "sink", "pipe": "export_s3", "limit": 10}, "/v0/pipes/export_s3/sink", {"limit": "10"}),
        (
            {"kind": "populate", "pipe": "top?products", "node": "mv#1", "truncate": True},
            "/v0/pipes/top%3Fproducts/nodes/mv%231/population",
            {"truncate": "true"},
        ),
        (
            {"kind": "populate", "pipe": "p", "node": "n", "truncate": False, "unlink_on_populate_error": True},
            "/v0/pipes/p/nodes/n/population",
            {"truncate": "false", "unlink_on_populate_error": "true"},
        ),
        (
            {"kind": "import", "name": "events", "mode": "append", "url": "https://x.test/e.csv?sig=1", "format": None},
            "/v0/datasources",
            {"name": "events", "mode": "append", "url": "https://x.test/e.csv?sig=1"},  # None is left out
        ),
    ],
)
def test_start_requests(tinybird, spec, path, params):
    request = tinybird.start_request(spec)
    assert request.method == "POST"
    assert request.path == path
    assert dict(request.params or {}) == params
    assert request.json is None  # Tinybird takes everything in the query string
    assert request.headers == {"Authorization": f"Bearer {TOKEN}"}
    assert request.replayable is False  # a blind retry could start a second job


def test_start_request_does_not_change_the_callers_spec(tinybird):
    spec = {"kind": "copy", "pipe": "p", "_mode": "append"}
    tinybird.start_request(spec)
    assert spec == {"kind": "copy", "pipe": "p", "_mode": "append"}


def test_query_values_are_encoded_in_the_url(tinybird):
    request = tinybird.start_request({"kind": "import", "name": "ev", "url": "https://x.test/a b.csv?s=1&t=2"})
    query = parse_qs(urlsplit(request.url(TINYBIRD_URL)).query)
    assert query == {"name": ["ev"], "url": ["https://x.test/a b.csv?s=1&t=2"]}


def test_no_token_means_no_authorization_header():
    api = TinybirdApi(tinybird_settings(token=None))
    assert api.get_request(JOB_ID).headers == {}


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ({"pipe": "p"}, "needs 'kind'"),
        ({"kind": "query", "pipe": "p"}, "got 'query'"),
        ({"kind": "populateview", "pipe": "p", "node": "n"}, "copy, sink, populate, import"),
        ({"kind": "copy"}, "needs 'pipe'"),
        ({"kind": "copy", "pipe": "  "}, "needs 'pipe'"),
        ({"kind": "sink", "pipe": 42}, "needs 'pipe'"),
        ({"kind": "populate", "pipe": "p"}, "needs 'node'"),
        ({"kind": "populate", "node": "n"}, "needs 'pipe'"),
        ({"kind": "import", "url": "https://x.test/e.csv"}, "needs 'name'"),
        ({"kind": "import", "name": "", "url": "https://x.test/e.csv"}, "needs 'name'"),
    ],
)
def test_bad_start_specs_are_config_errors(tinybird, spec, says):
    with pytest.raises(JobsConfigError, match=says):
        tinybird.start_request(spec)


@pytest.mark.parametrize(
    "body",
    [
        # get_job_output(): every creation endpoint in the emulator
        {"id": JOB_ID, "job_id": JOB_ID, "job_url": f"https://api.tinybird.co/v0/jobs/{JOB_ID}",
         "status": "waiting", "job": {"id": JOB_ID, "job_id": JOB_ID, "status": "waiting"}},
        # populate and sink: response["job"]["id"]
        {"job": {"id": JOB_ID, "job_url": f"https://api.tinybird.co/v0/jobs/{JOB_ID}"}},
        # copy: response["job"]["job_id"]
        {"job": {"job_id": JOB_ID, "job_url": f"https://api.tinybird.co/v0/jobs/{JOB_ID}"}},
        # import from URL: top-level id (+ import_id)
        {"id": JOB_ID, "import_id": JOB_ID, "job_url": f"https://api.tinybird.co/v0/jobs/{JOB_ID}"},
        # delete rows: top-level job_id and job_url
        {"job_id": JOB_ID, "delete_id": JOB_ID, "job_url": f"https://api.tinybird.co/v0/jobs/{JOB_ID}"},
    ],
    ids=["get_job_output", "job.id", "job.job_id", "top-level id", "top-level job_id"],
)
def test_parse_started_reads_every_creation_shape(tinybird, body):
    job = tinybird.parse_started(Response(200, body))
    assert job.job_id == JOB_ID
    assert job.url == f"https://api.tinybird.co/v0/jobs/{JOB_ID}"
    assert job.status is JobStatus.PENDING  # a new job starts waiting
    assert job.payload == body


def test_parse_started_builds_the_job_url_when_the_answer_has_none():
    api = TinybirdApi(tinybird_settings(base_url="https://api.us-east.tinybird.co"))
    job = api.parse_started(Response(200, {"job": {"id": "abc", "status": "working"}}))
    assert job.url == "https://api.us-east.tinybird.co/v0/jobs/abc"
    assert job.status is JobStatus.RUNNING


@pytest.mark.parametrize("body", [{"job": {}}, {"datasource": {"id": "t_1"}}, {"id": ""}, {"id": 17}])
def test_parse_started_without_a_job_id_is_an_api_error(tinybird, body):
    with pytest.raises(JobsApiError, match="no job id"):
        tinybird.parse_started(Response(200, body))


@pytest.mark.parametrize("body", [None, "<html>proxy login</html>", ["x"]])
def test_a_non_json_object_answer_asks_whether_this_is_tinybird(tinybird, body):
    with pytest.raises(JobsApiError, match=r"not a JSON object.*really a tinybird API"):
        tinybird.parse_started(Response(200, body))


def test_start_job_exchange_sends_one_request(tinybird, script):
    run = script(Response(200, {"job": {"id": JOB_ID}}))
    job = run.run(tinybird.start_job({"kind": "copy", "pipe": "p"}))
    assert job.job_id == JOB_ID
    assert [r.path for r in run.requests] == ["/v0/pipes/p/copy"]


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, JobsApiError), (403, JobsAuthError), (404, JobsApiError), (422, JobsApiError)],
)
def test_start_job_errors_carry_tinybird_text(tinybird, script, status, error):
    run = script(Response(status, {"error": "Pipe \"p\" does not exist"}))
    with pytest.raises(error, match='Pipe "p" does not exist') as caught:
        run.run(tinybird.start_job({"kind": "copy", "pipe": "p"}))
    assert caught.value.http_status == status
    assert not isinstance(caught.value, JobNotFoundError)  # no job id yet: a 404 is about the pipe


# ---------------------------------------------------------------- job detail (§1.4, §1.5)


def test_detail_carries_progress_error_and_statistics(tinybird):
    body = {
        "kind": "populateview",
        "id": JOB_ID,
        "status": "error",
        "progress_percentage": 50.0,
        "error": "Memory limit exceeded",
        "errors": ["partition 202407 failed", "partition 202408 failed"],
        "statistics": {"bytes": 1592720209, "row_count": 50000000},
    }
    job = tinybird.parse_job(Response(200, body), JOB_ID)
    assert job.status is JobStatus.FAILED
    assert job.progress == 50.0
    assert job.message == "Memory limit exceeded; partition 202407 failed; partition 202408 failed"
    assert job.payload["statistics"] == {"bytes": 1592720209, "row_count": 50000000}
    assert job.url == f"{TINYBIRD_URL}/v0/jobs/{JOB_ID}"


def test_an_error_repeated_in_errors_is_said_once(tinybird):
    body = {"kind": "import", "id": JOB_ID, "status": "error", "error": "CSV header mismatch",
            "errors": ["CSV header mismatch", "row 3: bad date"]}  # fmt: skip
    job = tinybird.parse_job(Response(200, body), JOB_ID)
    assert job.message == "CSV header mismatch; row 3: bad date"


def test_the_documented_import_example_reads_as_succeeded(tinybird):
    body = {
        "kind": "import", "id": JOB_ID, "job_id": JOB_ID, "status": "done",
        "created_at": "2024-07-22 11:47:58.207606", "updated_at": "2024-07-22 11:48:52.971327",
        "started_at": "2024-07-22 11:47:58.351734", "is_cancellable": False, "mode": "append",
        "datasource": {"id": "t_caf95c54174e48f488ea65d181eb5b75", "name": "events"},
        "import_id": JOB_ID, "statistics": {"bytes": 1592720209, "row_count": 50000000},
        "quarantine_rows": 0, "invalid_lines": 0,
    }
    job = tinybird.parse_job(Response(200, body), JOB_ID)
    assert (job.status, job.progress, job.message) == (JobStatus.SUCCEEDED, None, None)


@pytest.mark.parametrize(("sent", "read"), [(120, 100.0), (-3, 0.0), ("42.5", 42.5), ("n/a", None), (True, None)])
def test_progress_is_clamped_or_dropped(tinybird, sent, read):
    assert tinybird.parse_job(detail("working", progress_percentage=sent), JOB_ID).progress == read


@pytest.mark.parametrize("body", [{"id": JOB_ID}, {"id": JOB_ID, "status": None}, {"id": JOB_ID, "status": 3}])
def test_detail_without_a_status_string_is_an_api_error(tinybird, body):
    with pytest.raises(JobsApiError, match="no 'status' string"):
        tinybird.parse_job(Response(200, body), JOB_ID)


# ---------------------------------------------------------------- get_job and jobs_log (§1.4 retention)


def test_get_job_reads_the_detail(tinybird, script):
    run = script(detail("working", progress_percentage=12.0))
    job = run.run(tinybird.get_job(JOB_ID))
    assert (job.job_id, job.status, job.progress) == (JOB_ID, JobStatus.RUNNING, 12.0)
    [request] = run.requests
    assert (request.method, request.path) == ("GET", f"/v0/jobs/{JOB_ID}")
    assert request.headers == {"Authorization": f"Bearer {TOKEN}"}


def test_a_job_gone_from_the_jobs_api_is_read_from_jobs_log(tinybird, script):
    row = {"job_id": JOB_ID, "job_type": "copy", "status": "error", "error": "quota exceeded",
           "pipe_name": "daily", "created_at": "2024-07-20 10:00:00", "updated_at": "2024-07-20 10:05:00"}
    run = script(
        Response(404, {"error": f'Job with id "{JOB_ID}" not found'}),
        Response(200, {"meta": [{"name": "job_id", "type": "String"}], "data": [row], "rows": 1}),
    )
    job = run.run(tinybird.get_job(JOB_ID))

    assert (job.job_id, job.status, job.raw_status) == (JOB_ID, JobStatus.FAILED, "error")
    assert job.message == "quota exceeded"
    assert job.payload["source"] == "jobs_log"
    assert job.url == f"{TINYBIRD_URL}/v0/jobs/{JOB_ID}"
    first, second = run.requests
    assert first.path == f"/v0/jobs/{JOB_ID}"
    assert (second.method, second.path) == ("GET", "/v0/sql")
    assert second.headers == {"Authorization": f"Bearer {TOKEN}"}
    sql = second.params["q"]
    assert "FROM tinybird.jobs_log" in sql
    assert f"job_id = '{JOB_ID}'" in sql
    assert sql.endswith("FORMAT JSON")


def test_jobs_log_rows_map_through_the_same_states_and_overrides(script):
    api = TinybirdApi(tinybird_settings(), status_overrides={"error": "CANCELLED"})
    run = script(Response(404, {"error": "not found"}), Response(200, {"data": [{"status": "error", "error": ""}]}))
    job = run.run(api.get_job("abc_123"))
    assert job.status is JobStatus.CANCELLED
    assert job.message is None  # an empty error column is no message


@pytest.mark.parametrize("answer", [{"data": []}, {"meta": [], "rows": 0}, {"data": None}])
def test_a_job_in_neither_place_is_not_found(tinybird, script, answer):
    run = script(Response(404, {"error": "not found"}), Response(200, answer))
    with pytest.raises(JobNotFoundError, match=r"neither in the Jobs API nor in tinybird.jobs_log") as caught:
        run.run(tinybird.get_job(JOB_ID))
    assert caught.value.http_status == 404
    assert "'tb'" in str(caught.value)  # names the connection to check


@pytest.mark.parametrize("job_id", ["a'b", "x' OR '1'='1", "a b", "a/b", "a;b", "j\u00f6b", "a%27b", "a.b"])
def test_ids_that_could_break_the_sql_never_reach_it(tinybird, script, job_id):
    run = script(Response(404, {"error": f'Job with id "{job_id}" not found'}))
    with pytest.raises(JobNotFoundError, match="HTTP 404"):
        run.run(tinybird.get_job(job_id))
    [request] = run.requests  # the Jobs API only: no SQL was built
    assert request.path.startswith("/v0/jobs/")


def test_an_id_with_a_trailing_newline_is_refused_before_any_request(tinybird, script):
    run = script()
    with pytest.raises(InvalidJobIdError):
        run.run(tinybird.get_job("abc\n"))
    assert run.requests == []


@pytest.mark.parametrize(("status", "error"), [(403, JobsAuthError), (500, JobsApiError)])
def test_other_get_errors_do_not_ask_jobs_log(tinybird, script, status, error):
    run = script(Response(status, {"error": "The token you have provided doesn't have access to this resource"}))
    with pytest.raises(error, match="doesn't have access"):
        run.run(tinybird.get_job(JOB_ID))
    assert len(run.requests) == 1


# ---------------------------------------------------------------- list (§1.5)


def test_allowed_list_filters_pass_as_query_params(tinybird):
    filters = {
        "kind": "copy", "status": "done", "pipe_id": "t_31a0", "pipe_name": "daily",
        "created_after": "2023-06-15T18:13:25.855Z", "created_before": None,
    }
    request = tinybird.list_request(filters)
    assert (request.method, request.path) == ("GET", "/v0/jobs")
    assert request.params == {key: value for key, value in filters.items() if value is not None}
    assert set(LIST_FILTERS) == {"kind", "status", "pipe_id", "pipe_name", "created_after", "created_before"}


@pytest.mark.parametrize("filters", [{"limit": 10}, {"kind": "copy", "datasource": "events"}, {"Status": "done"}])
def test_unknown_list_filters_are_config_errors(tinybird, filters):
    with pytest.raises(JobsConfigError, match="cannot filter jobs by") as caught:
        tinybird.list_request(filters)
    assert "created_after" in str(caught.value)  # lists what works


def test_list_jobs_parses_the_documented_answer(tinybird, script):
    answer = {"jobs": [
        {"id": "c8ae13ef", "kind": "import", "status": "done",
         "job_url": "https://api.tinybird.co/v0/jobs/c8ae13ef"},
        {"id": "d9", "kind": "copy", "status": "working", "pipe_name": "daily"},
    ]}
    jobs = script(Response(200, answer)).run(tinybird.list_jobs({"kind": "copy"}))
    assert [(j.job_id, j.status) for j in jobs] == [("c8ae13ef", JobStatus.SUCCEEDED), ("d9", JobStatus.RUNNING)]
    assert jobs[0].url == "https://api.tinybird.co/v0/jobs/c8ae13ef"
    assert jobs[1].url == f"{TINYBIRD_URL}/v0/jobs/d9"


def test_a_list_without_jobs_array_is_an_api_error(tinybird, script):
    with pytest.raises(JobsApiError, match="no 'jobs' array"):
        script(Response(200, {"data": []})).run(tinybird.list_jobs({}))


def test_probe_lists_jobs_and_names_the_host(tinybird, script):
    run = script(Response(200, {"jobs": []}))
    assert run.run(tinybird.probe()) == f"Connected to the tinybird API at {TINYBIRD_URL}"
    assert run.requests[0].path == "/v0/jobs"


# ---------------------------------------------------------------- cancel (§1.5)


def test_cancel_posts_and_reads_the_returned_job(tinybird, script):
    run = script(detail("cancelling", progress_percentage=50.0))
    job = run.run(tinybird.cancel_job(JOB_ID))
    assert job.status is JobStatus.RUNNING
    assert job.raw_status == "cancelling"
    [request] = run.requests
    assert (request.method, request.path, request.json) == ("POST", f"/v0/jobs/{JOB_ID}/cancel", None)
    assert request.replayable is True  # cancelling twice is harmless


@pytest.mark.parametrize("raw", ["cancelling", "cancelled"])
def test_a_refused_cancel_of_a_job_already_cancelling_succeeds(tinybird, script, raw):
    """The retry of a cancel whose answer was lost: Tinybird refuses it, the job is cancelling already."""
    run = script(Response(400, {"error": "Job is already being cancelled"}), detail(raw))
    assert run.run(tinybird.cancel_job(JOB_ID)).raw_status == raw


@pytest.mark.parametrize("text", ["Job is not in cancellable status", "Job is already being cancelled"])
def test_cancel_400_gives_tinybird_text_and_what_can_be_cancelled(tinybird, script, text):
    with pytest.raises(JobsApiError) as caught:
        script(Response(400, {"error": text}), detail("working")).run(tinybird.cancel_job(JOB_ID))
    assert text in str(caught.value)
    assert "Only waiting jobs" in str(caught.value)
    assert caught.value.http_status == 400
    assert not isinstance(caught.value, (JobsAuthError, JobNotFoundError))


def test_cancel_403_is_an_auth_error_naming_the_connection(tinybird, script):
    body = {"error": "invalid authentication token",
            "documentation": "https://docs.tinybird.co/api-reference/overview#authentication"}
    with pytest.raises(JobsAuthError, match="invalid authentication token") as caught:
        script(Response(403, body)).run(tinybird.cancel_job(JOB_ID))
    assert "connection 'tb'" in str(caught.value)
    assert caught.value.http_status == 403
    assert TOKEN not in str(caught.value)


def test_cancel_404_is_job_not_found(tinybird, script):
    with pytest.raises(JobNotFoundError, match='Job with id "nope" not found'):
        script(Response(404, {"error": 'Job with id "nope" not found'})).run(tinybird.cancel_job("nope"))


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_an_api_error_that_says_redirects_are_not_followed(tinybird, script, status):
    answer = Response(status, None, headers={"Location": "https://api.eu.tinybird.co/v0/jobs/x/cancel"})
    with pytest.raises(JobsApiError, match="redirects are not followed") as caught:
        script(answer).run(tinybird.cancel_job(JOB_ID))
    assert "https://api.eu.tinybird.co/v0/jobs/x/cancel" in str(caught.value)
    assert caught.value.http_status == status
