"""The jobs_log SQL subset (pure, no server)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_jobs_provider.emulator.tinybird.sql import JOBS_LOG_COLUMNS, Query, SqlError, parse_query, run_query

ROWS: list[dict[str, Any]] = [
    {**dict.fromkeys(JOBS_LOG_COLUMNS, ""), "job_id": "a", "status": "done", "started_at": "2024-01-01 00:00:02"},
    {**dict.fromkeys(JOBS_LOG_COLUMNS, ""), "job_id": "b", "status": "error", "started_at": None},
    {**dict.fromkeys(JOBS_LOG_COLUMNS, ""), "job_id": "c", "status": "done", "started_at": "2024-01-01 00:00:01"},
]


def test_the_docs_query_parses() -> None:
    query = parse_query("SELECT * FROM tinybird.jobs_log WHERE job_id='abc-1' FORMAT JSON")
    assert query == Query(columns=tuple(JOBS_LOG_COLUMNS), conditions=(("job_id", "=", "abc-1"),))


def test_columns_conditions_order_and_limit_parse_case_insensitively() -> None:
    sql = (
        "select job_id, status\nfrom TINYBIRD.JOBS_LOG where status = 'done' and job_type='copy' "
        "order by created_at desc limit 5 format JSON;"
    )
    query = parse_query(sql)
    assert query == Query(
        columns=("job_id", "status"),
        conditions=(("status", "=", "done"), ("job_type", "=", "copy")),
        order_by="created_at",
        descending=True,
        limit=5,
    )


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM tinybird.jobs_log WHERE job_id = 'x'", "add FORMAT JSON"),
        ("SELECT * FROM tinybird.jobs_log FORMAT CSV", "add FORMAT JSON"),
        ("SELECT * FROM tinybird.datasources_ops_log FORMAT JSON", "Resource 'tinybird.datasources_ops_log' not found"),
        ("SELECT nope FROM tinybird.jobs_log FORMAT JSON", "Missing columns: 'nope'"),
        ("SELECT * FROM tinybird.jobs_log WHERE job_id != 'x' FORMAT JSON", "column = 'value'"),
        ("SELECT * FROM tinybird.jobs_log WHERE status IN (done) FORMAT JSON", "IN takes a list of 'quoted' values"),
        ("SELECT count() FROM tinybird.jobs_log FORMAT JSON", "plain column names"),
        ("DROP TABLE tinybird.jobs_log", "only understands queries of the form"),
    ],
)
def test_unsupported_sql_is_refused_with_the_problem_named(sql: str, message: str) -> None:
    with pytest.raises(SqlError) as caught:
        parse_query(sql)
    assert message in str(caught.value)


def test_run_query_filters_orders_with_nulls_last_and_limits() -> None:
    query = parse_query("SELECT job_id FROM tinybird.jobs_log ORDER BY started_at DESC LIMIT 2 FORMAT JSON")
    answer = run_query(query, ROWS)
    assert answer["data"] == [{"job_id": "a"}, {"job_id": "c"}]
    assert answer["rows"] == 2 and answer["rows_before_limit_at_least"] == 3
    assert answer["meta"] == [{"name": "job_id", "type": "String"}]
    assert answer["statistics"]["rows_read"] == 3


def test_run_query_equality_never_matches_null() -> None:
    query = parse_query("SELECT job_id FROM tinybird.jobs_log WHERE started_at = '' FORMAT JSON")
    assert run_query(query, ROWS)["data"] == []


def test_a_watchers_window_query_parses_and_pages() -> None:
    """What TinybirdApi.jobs_log_window_request sends: a time range, final states, LIMIT and OFFSET."""
    blank = dict.fromkeys(JOBS_LOG_COLUMNS, "")
    rows = [
        {**blank, "job_id": f"j{n}", "status": status, "updated_at": f"2024-01-01 00:00:0{n}"}
        for n, status in enumerate(["done", "working", "error", "done", "cancelled", "done"])
    ]
    sql = (
        "SELECT job_id, status FROM tinybird.jobs_log WHERE status IN ('cancelled', 'done', 'error') "
        "AND updated_at >= '2024-01-01 00:00:01' AND updated_at <= '2024-01-01 00:00:05' "
        "ORDER BY updated_at DESC LIMIT 2 OFFSET 1 FORMAT JSON"
    )
    query = parse_query(sql)
    assert query.conditions[0] == ("status", "IN", ("cancelled", "done", "error"))
    assert (query.limit, query.offset) == (2, 1)
    # j0 is before the range, j1 still working, j5 skipped by the offset
    assert [row["job_id"] for row in run_query(query, rows)["data"]] == ["j4", "j3"]
