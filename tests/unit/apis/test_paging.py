"""Window reads (apis/paging.py and each API's ``list_window``), as plain data in and out: no server."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_jobs_provider.apis.exchange import Response
from airflow_jobs_provider.apis.registry import build_api
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.values import epoch
from airflow_jobs_provider.exceptions import JobsApiError, JobsConfigError
from tests.support.api_settings import ACME_EXTRAS, TOKEN, acme_settings, tinybird_settings
from tests.support.scripted import Script

T0 = epoch("2026-01-01T12:00:00Z")
assert T0 is not None


def keboola() -> Any:
    return build_api(ApiSettings(conn_id="kbc", api="keboola", base_url="https://queue.keboola.com", token=TOKEN))


def airbyte() -> Any:
    extra = {"api": "airbyte", "auth": "bearer"}
    return build_api(ApiSettings(conn_id="ab", api="airbyte", base_url="https://api.airbyte.com/v1", token=TOKEN,
                                 extras=extra))  # fmt: skip


def kbc_job(number: int, ended: float) -> dict[str, Any]:
    end = f"{datetime.fromtimestamp(ended, tz=timezone.utc):%Y-%m-%dT%H:%M:%S+00:00}"
    return {"id": str(number), "status": "success", "isFinished": True, "endTime": end}


def page(count: int, first: int, newest: float) -> Response:
    return Response(200, [kbc_job(first + n, newest - n) for n in range(count)])


def query(request: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url("https://x")).query)


def test_keboola_pages_by_end_time_until_a_short_page() -> None:
    script = Script(page(100, 0, T0), page(100, 100, T0 - 100), page(30, 200, T0 - 200))
    window = script.run(keboola().list_window({"componentId": "c"}, since=T0 - 1000))
    assert len(window.jobs) == 230 and window.complete and window.pages == 3
    first, third = query(script.requests[0]), query(script.requests[2])
    assert first["sortBy"] == ["endTime"] and first["sortOrder"] == ["desc"] and first["limit"] == ["100"]
    assert first["endTimeFrom"] == ["2026-01-01T11:43:20Z"] and third["offset"] == ["200"]
    assert (window.oldest, window.newest) == (T0 - 229, T0)


def test_paging_stops_at_the_first_page_that_reaches_past_the_window() -> None:
    """An API that ignores endTimeFrom still stops the read: the page's oldest job is older than the window."""
    script = Script(page(100, 0, T0), page(100, 100, T0 - 100))
    window = script.run(keboola().list_window({}, since=T0 - 150))
    assert window.pages == 2 and window.complete


def test_the_page_cap_ends_a_read_loudly_and_says_where_it_stopped() -> None:
    script = Script(page(100, 0, T0), page(100, 100, T0 - 100))
    window = script.run(keboola().list_window({}, since=T0 - 10_000, max_pages=2))
    assert not window.complete and window.pages == 2
    assert window.oldest == T0 - 199
    assert "cap" in window.problems[0]


def test_an_api_that_ignores_the_offset_does_not_make_the_read_spin_or_repeat() -> None:
    script = Script(page(100, 0, T0), page(100, 0, T0))
    window = script.run(keboola().list_window({}, since=T0 - 10_000))
    assert window.pages == 2 and len(window.jobs) == 100 and not window.complete
    assert "ignores the offset" in window.problems[0]


def test_a_page_larger_than_asked_for_is_read_but_not_trusted_as_complete() -> None:
    script = Script(page(150, 0, T0))
    window = script.run(keboola().list_window({}, since=T0 - 10_000))
    assert len(window.jobs) == 150 and not window.complete and "more than the 100" in window.problems[0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"jobs": []}, "did not answer with a JSON array"),
        ([1, 2], "not job objects"),
        ([{"id": "1"}], "no 'status' string"),
    ],
)
def test_a_bad_page_is_a_clear_error_not_an_empty_window(body: Any, message: str) -> None:
    with pytest.raises(JobsApiError, match=message):
        Script(Response(200, body)).run(keboola().list_window({}, since=T0))


def test_a_watcher_cannot_set_what_the_window_read_sets_itself() -> None:
    with pytest.raises(JobsConfigError, match="sets sortBy itself"):
        Script().run(keboola().list_window({"sortBy": "id"}, since=T0))


def test_airbyte_pages_by_last_update_with_updated_at_start() -> None:
    jobs = [{"jobId": n, "status": "succeeded", "lastUpdatedAt": "2026-01-01T12:00:00Z"} for n in range(100)]
    script = Script(Response(200, {"data": jobs}), Response(200, {"data": jobs[:1]}))
    window = script.run(airbyte().list_window({"connectionId": "e735894a-e773-4938-969f-45f53957b75b"}, since=T0))
    assert len(window.jobs) == 100 and window.complete
    params = query(script.requests[1])
    assert params["orderBy"] == ["updatedAt|DESC"] and params["offset"] == ["100"]
    assert params["updatedAtStart"] == ["2026-01-01T12:00:00Z"]


def tb_item(number: int, created: str) -> dict[str, Any]:
    return {"id": f"j{number}", "kind": "copy", "status": "done", "created_at": created, "updated_at": created}


def test_tinybird_reads_only_its_list_when_it_cannot_have_overflowed() -> None:
    listed = [tb_item(n, "2026-01-01 11:59:00") for n in range(40)]
    script = Script(Response(200, {"jobs": listed}))
    window = script.run(build_api(tinybird_settings()).list_window({"kind": "copy"}, since=T0 - 600, now=T0))
    assert len(window.jobs) == 40 and window.complete and window.pages == 1


def test_tinybird_reads_jobs_log_when_its_100_job_list_may_have_overflowed() -> None:
    listed = [tb_item(n, "2026-01-01 11:59:00") for n in range(100)]
    rows = [{"job_id": f"log{n}", "status": "done", "updated_at": "2026-01-01 11:58:00"} for n in range(200)]
    script = Script(Response(200, {"jobs": listed}), Response(200, {"data": rows}))
    api = build_api(tinybird_settings())
    window = script.run(api.list_window({"kind": "copy", "pipe_name": "x"}, since=T0 - 600, now=T0))
    assert len(window.jobs) == 300 and window.complete
    sql = query(script.requests[1])["q"][0]
    assert "FROM tinybird.jobs_log" in sql and "updated_at >= '2026-01-01 11:50:00'" in sql
    assert "job_type = 'copy'" in sql and "pipe_name = 'x'" in sql and "status IN ('cancelled', 'done', 'error')" in sql
    assert "jobs_log" in window.notes[0] and "its limit" in window.notes[0]


def test_tinybird_reads_jobs_log_after_an_outage_longer_than_48_hours() -> None:
    script = Script(Response(200, {"jobs": []}), Response(200, {"data": []}))
    window = script.run(build_api(tinybird_settings()).list_window({}, since=T0 - 50 * 3600, now=T0))
    assert window.pages == 2 and "48 h" in window.notes[0]


def test_tinybird_refuses_a_filter_value_it_cannot_put_in_sql() -> None:
    listed = [tb_item(n, "2026-01-01 11:59:00") for n in range(100)]
    with pytest.raises(JobsConfigError, match="cannot be used in a jobs_log query"):
        Script(Response(200, {"jobs": listed})).run(
            build_api(tinybird_settings()).list_window({"pipe_name": "x' OR 1=1 --"}, since=T0 - 60, now=T0)
        )


@pytest.mark.parametrize(
    ("rows", "message"),
    [({"rows": 1}, "no 'data' array"), ({"data": [{"status": "done"}]}, "without a job_id")],
)
def test_a_bad_jobs_log_answer_is_a_clear_error(rows: Any, message: str) -> None:
    script = Script(Response(200, {"jobs": []}), Response(200, rows))
    with pytest.raises(JobsApiError, match=message):
        script.run(build_api(tinybird_settings()).list_window({}, since=T0 - 50 * 3600, now=T0))


def test_rest_pages_as_its_list_extras_describe() -> None:
    runs = [{"id": f"r{n}", "state": "SUCCEEDED", "updated": "2026-01-01T12:00:00Z"} for n in range(100)]
    script = Script(Response(200, {"runs": runs}), Response(200, {"runs": runs[:3]}))
    window = script.run(build_api(acme_settings()).list_window({"task": "t"}, since=T0))
    assert len(window.jobs) == 100 and window.complete
    params = query(script.requests[1])
    assert params == {"task": ["t"], "limit": ["100"], "offset": ["100"], "updated_after": ["2026-01-01T12:00:00Z"]}


def test_rest_without_paging_extras_reads_its_one_list() -> None:
    extras = {key: value for key, value in ACME_EXTRAS.items() if not key.startswith("list_") or key == "list_root"}
    script = Script(Response(200, {"runs": [{"id": "r1", "state": "SUCCEEDED"}]}))
    window = script.run(build_api(acme_settings(extras)).list_window({}, since=T0))
    assert window.pages == 1 and window.complete and len(window.jobs) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"list_page_size": 0}, "list_page_size' must be a whole number 1..1000"),
        ({"list_page_size": "many"}, "list_page_size"),
        ({"list_offset_param": None}, "exactly one of extra 'list_offset_param'"),
        ({"list_page_param": "page"}, "exactly one of extra 'list_offset_param'"),
        ({"list_offset_param": "off set"}, "must be a query parameter name"),
        ({"list_since_param": "limit"}, "different query parameters"),
        ({"list_order_field": 7}, "dotted path string"),
        ({"list_first_page": 5}, "must be 0 or 1"),
    ],
)
def test_paging_extras_are_checked_as_untrusted_input(changes: dict[str, Any], message: str) -> None:
    extras = {**copy.deepcopy(ACME_EXTRAS), **changes}
    with pytest.raises(JobsConfigError, match=message):
        build_api(acme_settings(extras))


def test_rest_page_numbers_instead_of_offsets() -> None:
    extras = {**copy.deepcopy(ACME_EXTRAS), "list_offset_param": None, "list_page_param": "page", "list_page_size": 2}
    runs = [{"id": f"r{n}", "state": "SUCCEEDED"} for n in range(2)]
    script = Script(Response(200, {"runs": runs}), Response(200, {"runs": []}))
    script.run(build_api(acme_settings(extras)).list_window({}, since=None))
    assert [query(request)["page"] for request in script.requests] == [["1"], ["2"]]
