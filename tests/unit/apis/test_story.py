"""The job's story in the sans-I/O layer: each API's story operation with plain data, no server."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_jobs_provider.apis.airbyte.api import AirbyteApi
from airflow_jobs_provider.apis.airbyte_story import iso_seconds
from airflow_jobs_provider.apis.exchange import Response
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.keboola import KeboolaApi
from airflow_jobs_provider.apis.rest import RestApi
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.story import Summary, bounded, clean_line, fresh, story_enabled, summary_line
from airflow_jobs_provider.apis.tinybird import TinybirdApi
from airflow_jobs_provider.exceptions import JobsConfigError
from tests.support.api_settings import ACME_EXTRAS, TOKEN, acme_settings, tinybird_settings
from tests.support.scripted import Script


def keboola(**extras: Any) -> KeboolaApi:
    settings = ApiSettings(
        "k", "keboola", "https://queue.eu-central-1.keboola.com", TOKEN, extras={"api": "keboola", **extras}
    )
    return KeboolaApi(settings)


def event(event_id: int, kind: str = "info", message: str = "m") -> dict[str, Any]:
    return {"id": str(event_id), "type": kind, "message": message, "created": "2026-01-01T00:00:00+00:00"}


def kjob(status: JobStatus = JobStatus.RUNNING, **payload: Any) -> Job:
    return Job("42", status, status.value.lower(), payload={"runId": "7.42", **payload})


# ---------------------------------------------------------------- lines are untrusted input


def test_a_line_loses_control_characters_and_secrets_and_is_cut_to_size():
    line = clean_line(f"ok\x1b[31m red\r\nnext\u202eevil {TOKEN} " + "x" * 2000, [TOKEN])
    assert "\x1b" not in line and "\n" not in line and "\u202e" not in line
    assert TOKEN not in line and "***" in line
    assert len(line) == 1000 and line.endswith("…")


def test_bounded_cuts_lists_strings_and_depth_and_drops_secret_keys():
    value = {"tables": list(range(100)), "text": "y" * 900, "#password": "KBC::x", "token": {"id": 1},
             "a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}  # fmt: skip
    kept = bounded(value)
    assert len(kept["tables"]) == 25 and len(kept["text"]) == 501
    assert "#password" not in kept and "token" not in kept
    assert kept["a"]["b"]["c"]["d"] == {"e": None}


def test_fresh_logs_a_line_once_across_calls():
    first = fresh(["a", "b"], None)
    second = fresh(["a", "b", "c"], first.cursor)
    assert first.lines == ("a", "b") and second.lines == ("c",)


def test_the_job_story_extra_must_be_a_flag():
    assert story_enabled(tinybird_settings(extras={"job_story": "false"})) is False
    with pytest.raises(JobsConfigError, match="job_story"):
        story_enabled(tinybird_settings(extras={"job_story": "sometimes"}))


def test_summary_line_says_what_the_api_says():
    job = Job("9", JobStatus.SUCCEEDED, "done", url="https://x/jobs/9")
    line = summary_line(
        job, Summary(duration=75, queued=3, rows=1200, bytes=2048, details=("2 quarantined rows",)), job.url
    )
    assert (
        line
        == "Summary: job 9 SUCCEEDED (raw: done) in 1m15s (queued 3s); 1,200 rows, 2.0 KB; 2 quarantined rows: https://x/jobs/9"
    )


# ---------------------------------------------------------------- Keboola


def test_keboola_reads_the_runs_events_on_the_storage_host_the_queue_host_implies():
    api = keboola()
    script = Script(Response(200, [event(3), event(2), event(1)]))
    page = script.run(api.story(kjob(), None))
    (request,) = script.requests
    assert request.url(api.settings.base_url).startswith(
        "https://connection.eu-central-1.keboola.com/v2/storage/events?"
    )
    assert request.params == {"runId": "7.42", "limit": "100"} and request.headers == {"X-StorageApi-Token": TOKEN}
    assert [line.rsplit(": ", 1)[1] for line in page.lines] == ["m", "m", "m"] and page.cursor == {"since": 3}

    again = Script(Response(200, [event(4, "error", "boom"), event(3)]))
    page = again.run(api.story(kjob(JobStatus.FAILED), page.cursor))
    assert again.requests[0].params["sinceId"] == "3"
    assert page.lines == ("[keboola event 2026-01-01T00:00:00+00:00] ERROR: boom",)


def test_keboola_failure_puts_error_events_first_and_pages_back_through_a_full_page():
    api = keboola()
    full = [event(n) for n in range(200, 100, -1)]
    script = Script(Response(200, full), Response(200, [event(7, "error", "disk full"), event(6)]))
    page = script.run(api.story(kjob(JobStatus.FAILED), None))
    assert script.requests[1].params["maxId"] == "100"
    assert page.lines[0].endswith("ERROR: disk full") and len(page.lines) == 102


def test_keboola_storage_url_extra_is_checked_and_wins():
    assert keboola(storage_url="https://connection.keboola.com/").storage_url == "https://connection.keboola.com"
    with pytest.raises(JobsConfigError, match="storage_url"):
        _ = keboola(storage_url="https://user:pw@connection.keboola.com").storage_url
    other = KeboolaApi(ApiSettings("k", "keboola", "http://127.0.0.1:9", TOKEN, extras={}))
    assert other.storage_url == "http://127.0.0.1:9", "not a queue. host: the connection's own host"


def test_keboola_odd_event_answers_are_skipped_or_refused():
    api = keboola()
    page = Script(Response(200, [{"id": True}, "x", {"id": "abc"}, event(5)])).run(api.story(kjob(), None))
    assert len(page.lines) == 1
    with pytest.raises(Exception, match="not a JSON array"):
        Script(Response(200, {"error": "x"})).run(api.story(kjob(), None))


# ---------------------------------------------------------------- Tinybird


def test_tinybird_failed_import_reads_its_ops_log_rows_once():
    api = TinybirdApi(tinybird_settings())
    job = Job("abc-1", JobStatus.FAILED, "error", payload={"kind": "import", "error": "bad CSV", "errors": ["bad CSV"]})
    rows = {"data": [{"timestamp": "t", "result": "error", "error": "bad CSV", "rows": 0}]}
    script = Script(Response(200, rows))
    page = script.run(api.story(job, None))
    assert "FROM tinybird.datasources_ops_log WHERE job_id = 'abc-1'" in script.requests[0].params["q"]
    assert page.lines == (
        "[tinybird] error: bad CSV",
        "[tinybird] tinybird.datasources_ops_log: timestamp=t, result=error, error=bad CSV, rows=0",
    )
    assert Script().run(api.story(job, page.cursor)).lines == (), "read once, logged once"


def test_tinybird_never_puts_an_odd_job_id_into_sql():
    api = TinybirdApi(tinybird_settings())
    job = Job("x' OR 1=1 --", JobStatus.FAILED, "error", payload={"kind": "copy"})
    page = Script().run(api.story(job, None))
    assert page.lines[0].startswith("[tinybird] could not read tinybird.datasources_ops_log")


# ---------------------------------------------------------------- Airbyte and REST


def test_airbyte_config_api_attempts_and_failures():
    extras = {"api": "airbyte", "auth": "bearer", "config_api_url": "http://h:8000/api/v1"}
    settings = ApiSettings("a", "airbyte", "http://h:8000/api/public/v1", TOKEN, extras=extras)
    api = AirbyteApi(settings)
    failure = {"failureOrigin": "source", "failureType": "system_error", "externalMessage": f"no route {TOKEN}"}
    attempt = {"id": 0, "status": "failed", "createdAt": 10, "endedAt": 40, "recordsSynced": 5, "bytesSynced": 2048,
               "failureSummary": {"failures": [failure]}}  # fmt: skip
    script = Script(Response(200, {"attempts": [{"attempt": attempt, "logs": {"logLines": ["l1"]}}]}))
    page = script.run(api.story(Job("12", JobStatus.RUNNING, "incomplete"), None))
    assert script.requests[0].url(settings.base_url) == "http://h:8000/api/v1/jobs/get"
    assert script.requests[0].json == {"id": 12}
    assert page.lines == (
        "[airbyte] attempt 1 failed after 30s, 5 records, 2.0 KB",
        "[airbyte] attempt 1 failure (source, system_error): no route ***",
    )


def test_airbyte_extras_are_checked_and_durations_read():
    with pytest.raises(JobsConfigError, match="config_api_log_lines"):
        AirbyteApi(
            ApiSettings("a", "airbyte", "http://h", TOKEN, extras={"auth": "bearer", "config_api_log_lines": 500})
        )
    assert iso_seconds("PT1M2.5S") == 62.5 and iso_seconds("P1DT1H") == 90000 and iso_seconds("soon") is None


def test_rest_log_endpoint_entries_once_and_a_replaced_log_from_its_start():
    api = RestApi(acme_settings({**ACME_EXTRAS, "log_endpoint": "GET /runs/{job_id}/log", "log_root": "entries",
                                 "log_message_field": "msg"}))  # fmt: skip
    job = Job("r1", JobStatus.RUNNING, "RUNNING")
    first = Script(Response(200, {"entries": [{"msg": "a"}, {"msg": "b"}]})).run(api.story(job, None))
    second = Script(Response(200, {"entries": [{"msg": "a"}, {"msg": "b"}, {"msg": "c"}]})).run(
        api.story(job, first.cursor)
    )
    replaced = Script(Response(200, {"entries": [{"msg": "z"}]})).run(api.story(job, second.cursor))
    assert (first.lines, second.lines, replaced.lines) == (
        ("[job log] a", "[job log] b"),
        ("[job log] c",),
        ("[job log] z",),
    )
    with pytest.raises(JobsConfigError, match="log_endpoint"):
        extras = {key: value for key, value in ACME_EXTRAS.items() if key != "log_endpoint"}
        RestApi(acme_settings(extras))
