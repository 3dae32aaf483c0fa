"""The many-jobs reads behind shared polls (triggers/batch_poller.py): Tinybird's jobs_log batches and
feed, Airbyte's changed-since list, the REST ``batch_*`` extras, and the connection's batching extras."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_jobs_provider.apis.airbyte.api import AirbyteApi
from airflow_jobs_provider.apis.exchange import Response
from airflow_jobs_provider.apis.job import JobStatus
from airflow_jobs_provider.apis.rest import RestApi
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.tinybird import TinybirdApi
from airflow_jobs_provider.exceptions import JobsApiError, JobsConfigError, UnknownJobStateError
from tests.support.api_settings import ACME_EXTRAS, acme_settings, tinybird_settings
from tests.support.scripted import Script

TINYBIRD = TinybirdApi(tinybird_settings())
DATE = {"Date": "Tue, 01 Dec 2026 12:00:00 GMT"}
DATE_EPOCH = 1796126400.0


def sql_of(request) -> str:
    return parse_qs(urlsplit(request.url("https://x")).query)["q"][0]


def log_row(job_id: str, status: str, updated: str = "2026-12-01 11:59:00") -> dict[str, str]:
    return {"job_id": job_id, "status": status, "updated_at": updated, "created_at": "2026-12-01 11:00:00"}


# -- Tinybird: jobs_log for many ids, and the jobs that ended since a time
def test_tinybird_batch_asks_jobs_log_for_the_final_rows_of_exactly_those_ids():
    sql = sql_of(TINYBIRD.get_jobs_request(["a1", "b2"]))

    assert "FROM tinybird.jobs_log WHERE job_id IN ('a1', 'b2')" in sql
    assert "status IN ('cancelled', 'done', 'error')" in sql
    assert sql.endswith("ORDER BY updated_at DESC LIMIT 4 FORMAT JSON")


def test_tinybird_batch_refuses_an_id_that_cannot_be_written_into_sql():
    with pytest.raises(JobsConfigError, match="cannot be looked up in jobs_log"):
        TINYBIRD.get_jobs_request(["a1", "x' OR 1=1 --"])


def test_tinybird_batch_keeps_the_newest_final_row_of_each_asked_id_only():
    rows = [
        log_row("a1", "done", "2026-12-01 11:59:00"),
        log_row("a1", "error", "2026-12-01 11:58:00"),  # older row of the same job: ignored
        log_row("zz", "done"),  # not asked for
        log_row("b2", "working"),  # not final: may lag the Jobs API, so read alone
        log_row("c3", "paused"),  # unknown state: this job's error only
    ]
    found = TINYBIRD.parse_jobs(Response(200, {"data": rows}), ["a1", "b2", "c3"])

    assert set(found) == {"a1", "c3"}
    assert found["a1"].status is JobStatus.SUCCEEDED and found["a1"].payload["source"] == "jobs_log"
    assert isinstance(found["c3"], UnknownJobStateError)


def test_tinybird_batch_answer_without_rows_is_an_error_of_the_whole_batch():
    with pytest.raises(JobsApiError, match="jobs_log answer has no 'data' array"):
        TINYBIRD.parse_jobs(Response(200, {"error": "no"}), ["a1"])


def test_tinybird_feed_reads_jobs_log_for_jobs_that_ended_since_and_pages_on():
    full = [log_row(f"j{n}", "done") for n in range(500)]
    script = Script(Response(200, {"data": full}, DATE), Response(200, {"data": [log_row("last", "error")]}))

    window = script.run(TINYBIRD.changed_since(DATE_EPOCH - 60, max_pages=5))

    first, second = (sql_of(request) for request in script.requests)
    assert "updated_at >= '2026-12-01 11:59:00'" in first and "OFFSET 0" in first and "OFFSET 500" in second
    assert window.complete and window.server_time == DATE_EPOCH and len(window.jobs) == 501


def test_tinybird_feed_without_since_reads_one_page_for_the_clock():
    script = Script(Response(200, {"data": [log_row(f"j{n}", "done") for n in range(500)]}, DATE))

    window = script.run(TINYBIRD.changed_since(None, max_pages=50))

    assert "updated_at >=" not in sql_of(script.requests[0])
    assert window.server_time == DATE_EPOCH and window.pages == 1


# -- Airbyte: the job list by last update is the feed
def test_airbyte_feed_is_the_job_list_newest_update_first_since_a_time():
    api = AirbyteApi(ApiSettings("ab", "airbyte", "https://api.airbyte.com/v1", token="t", extras={"api": "airbyte"}))
    script = Script(
        Response(200, {"data": [{"jobId": 7, "status": "running", "lastUpdatedAt": "2026-12-01T11:59:30Z"}]}, DATE)
    )

    window = script.run(api.changed_since(DATE_EPOCH - 30.5, max_pages=3))

    query = parse_qs(urlsplit(script.requests[0].url("https://x")).query)
    assert query["orderBy"] == ["updatedAt|DESC"] and query["limit"] == ["100"] and query["offset"] == ["0"]
    assert query["updatedAtStart"] == ["2026-12-01T11:59:29Z"], "rounded down: the window starts early"
    assert "connectionId" not in query
    assert window.complete and [job.job_id for job in window.jobs] == ["7"]
    assert api.supports_changed_feed and not api.supports_batch_get


# -- REST: the batch_* extras
BATCHED = {**ACME_EXTRAS, "batch_get": "GET /acme/v2/runs", "batch_ids_param": "id", "batch_feed": True}


def test_rest_batch_extras_describe_a_many_ids_read():
    api = RestApi(acme_settings(BATCHED))
    request = api.get_jobs_request(["r1", "r2"])

    assert (request.method, request.path, request.params) == ("GET", "/acme/v2/runs", {"id": ["r1", "r2"]})
    assert api.supports_batch_get and api.supports_changed_feed and api.batch_size == 100
    comma = RestApi(acme_settings({**BATCHED, "batch_ids_style": "comma", "batch_size": "20"}))
    assert comma.get_jobs_request(["r1", "r2"]).params == {"id": "r1,r2"} and comma.batch_size == 20


def test_rest_batch_answer_gives_each_asked_job_its_own_result():
    api = RestApi(acme_settings(BATCHED))
    body = {
        "runs": [{"id": "r1", "state": "SUCCEEDED"}, {"id": "r2", "state": "WEIRD"}, {"id": "other", "state": "FAILED"}]
    }

    found = api.parse_jobs(Response(200, body), ["r1", "r2", "r3"])

    assert found["r1"].status is JobStatus.SUCCEEDED
    assert isinstance(found["r2"], UnknownJobStateError)
    assert "other" not in found and "r3" not in found
    with pytest.raises(JobsApiError, match="batch_root"):
        api.parse_jobs(Response(200, {"nope": []}), ["r1"])


@pytest.mark.parametrize(
    ("extras", "message"),
    [
        ({"batch_ids_param": "id"}, "needs extra 'batch_get'"),
        ({"batch_get": "GET /runs"}, "needs 'batch_ids_param'"),
        ({"batch_get": "GET /runs/{job_id}", "batch_ids_param": "id"}, "cannot name {job_id}"),
        ({"batch_get": "FETCH /runs", "batch_ids_param": "id"}, "'METHOD /path'"),
        ({"batch_get": "GET /runs", "batch_ids_param": "id", "batch_size": 0}, "batch_size"),
        ({"batch_get": "GET /runs", "batch_ids_param": "id", "batch_ids_style": "semicolon"}, "batch_ids_style"),
        ({"batch_get": "GET /runs", "batch_ids_param": "id&x"}, "query parameter name"),
        ({"batch_feed": "yes"}, "'batch_feed' must be true or false"),
    ],
)
def test_rest_batch_extras_are_checked(extras, message):
    with pytest.raises(JobsConfigError, match=message):
        RestApi(acme_settings({**ACME_EXTRAS, **extras}))


def test_rest_feed_needs_a_list_that_pages_by_update_time():
    extras = {key: value for key, value in BATCHED.items() if key != "list_since_param"}
    with pytest.raises(JobsConfigError, match="needs extra list_since_param"):
        RestApi(acme_settings(extras))


# -- the connection's batching extras, for every API
def test_batching_off_and_the_overlap_come_from_the_connection():
    class Conn:
        conn_id, host, password, login, port, schema = "tb", "https://api.tinybird.co", "t", None, None, None
        extra = {"api": "tinybird", "batching": "false", "batch_overlap_seconds": 5}

    settings = ApiSettings.from_connection(Conn())
    api = TinybirdApi(settings)
    assert not api.supports_batch_get and not api.supports_changed_feed and api.feed_overlap == 5.0
    assert TinybirdApi(tinybird_settings()).feed_overlap == TinybirdApi.feed_overlap
    Conn.extra = {"api": "tinybird", "batch_overlap_seconds": -1}
    with pytest.raises(JobsConfigError, match="batch_overlap_seconds"):
        ApiSettings.from_connection(Conn())
