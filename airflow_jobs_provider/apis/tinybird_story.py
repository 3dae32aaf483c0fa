"""Tinybird's story of a job: what its detail answer reports, and its ops-log rows when it failed.

The job detail carries the story: a populate's ``queries`` with their states, ``statistics``,
``quarantine_rows`` and ``invalid_lines`` of an import, ``error`` and ``errors``. Progress itself is
the progress log's (tasks/progress.py). When an import or a copy fails, the rows of the
``tinybird.datasources_ops_log`` service data source for the job tell what happened step by step
(a sink's are in ``tinybird.sinks_ops_log``), read once through the SQL endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_jobs_provider.apis.exchange import Exchange, Request
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.story import (
    StoryPage,
    Summary,
    clean_line,
    fresh,
    number_of,
    object_of,
    progress_text,
    text_of,
)
from airflow_jobs_provider.exceptions import JobsError

if TYPE_CHECKING:
    from airflow_jobs_provider.apis.tinybird import TinybirdApi

MAX_QUERIES = 50
MAX_OPS_ROWS = 20
DATASOURCES_OPS_LOG = "tinybird.datasources_ops_log"
SINKS_OPS_LOG = "tinybird.sinks_ops_log"
DATASOURCE_COLUMNS = "timestamp, event_type, datasource_name, result, error, rows, rows_quarantine, elapsed_time"
SINK_COLUMNS = "timestamp, service, pipe_name, result, error, written_rows, written_bytes, elapsed_time"
OPS_LOGS: dict[str, tuple[str, str]] = {
    "import": (DATASOURCES_OPS_LOG, DATASOURCE_COLUMNS),
    "copy": (DATASOURCES_OPS_LOG, DATASOURCE_COLUMNS),
    "sink": (SINKS_OPS_LOG, SINK_COLUMNS),
}
"""Job kind → the service data source with its steps, and the columns a story line shows."""


def story(api: TinybirdApi, job: Job, cursor: Mapping[str, Any] | None) -> Exchange[StoryPage]:
    body = job.payload
    lines = [*_queries(body), *_statistics(body), *_errors(body)]
    state: dict[str, Any] = {}
    kind = body.get("kind")
    if job.status is JobStatus.FAILED and kind in OPS_LOGS and not (cursor or {}).get("ops"):
        state["ops"] = True
        table, columns = OPS_LOGS[kind]
        try:
            request = ops_log_request(api, table, columns, job.job_id)
            response = yield request
            rows = api.json_object(api.checked(response, f"query {table} for"), f"query {table}").get("data")
            lines += [_ops_line(table, row) for row in (rows if isinstance(rows, list) else [])[:MAX_OPS_ROWS]]
        except JobsError as error:
            lines.append(f"could not read {table} for this job: {error}")
    return fresh([clean_line(f"[tinybird] {line}", api.secrets()) for line in lines], cursor, **state)


def ops_log_request(api: TinybirdApi, table: str, columns: str, job_id: str) -> Request:
    from airflow_jobs_provider.apis.tinybird import JOBS_LOG_ID

    if not JOBS_LOG_ID.fullmatch(job_id):  # it fills a SQL string: only ids of Tinybird's own alphabet
        raise JobsError(f"job id {job_id!r} cannot be looked up in {table}")
    sql = (
        f"SELECT {columns} FROM {table} WHERE job_id = '{job_id}' ORDER BY timestamp ASC "
        f"LIMIT {MAX_OPS_ROWS} FORMAT JSON"
    )
    return Request("GET", "/v0/sql", params={"q": sql}, headers=api.headers())


def _queries(body: Mapping[str, Any]) -> list[str]:
    queries = body.get("queries")
    lines = []
    for query in queries[:MAX_QUERIES] if isinstance(queries, list) else []:
        if not isinstance(query, Mapping):
            continue
        query_id = text_of(query.get("query_id"), 80) or "?"
        status = text_of(query.get("status"), 40) or "?"
        progress = progress_text(query.get("progress_percentage"))
        lines.append(f"populate query {query_id}: {status}" + (f" {progress}" if progress else ""))
    return lines


def _statistics(body: Mapping[str, Any]) -> list[str]:
    lines = []
    statistics = object_of(body.get("statistics"))
    shown = [
        f"{key}={value}"[:80] for key, value in list(statistics.items())[:12] if isinstance(value, (int, float, str))
    ]
    if shown:
        lines.append("statistics: " + ", ".join(shown))
    quarantined, invalid = number_of(body.get("quarantine_rows")), number_of(body.get("invalid_lines"))
    name = text_of(object_of(body.get("datasource")).get("name"), 200)
    if quarantined:
        where = f" {name}_quarantine" if name else " the data source's quarantine"
        lines.append(f"{quarantined:,} rows went to{where}")
    if invalid:
        lines.append(f"{invalid:,} invalid lines")
    return lines


def _errors(body: Mapping[str, Any]) -> list[str]:
    errors = body.get("errors")
    found = [body.get("error"), *(errors[:20] if isinstance(errors, list) else [])]
    texts = [text for item in found if (text := text_of(item))]
    return [f"error: {text}" for text in dict.fromkeys(texts)]


def _ops_line(table: str, row: Any) -> str:
    if not isinstance(row, Mapping):
        return f"{table}: (a row that is not an object)"
    cells = [f"{key}={str(value)[:300]}" for key, value in list(row.items())[:12] if value not in (None, "")]
    return f"{table}: " + ", ".join(cells)


def summary(job: Job) -> Summary:
    body = job.payload
    created, started, updated = (_time(body.get(key)) for key in ("created_at", "started_at", "updated_at"))
    statistics = object_of(body.get("statistics"))
    details = []
    if quarantined := number_of(body.get("quarantine_rows")):
        details.append(f"{quarantined:,} quarantined rows")
    if invalid := number_of(body.get("invalid_lines")):
        details.append(f"{invalid:,} invalid lines")
    return Summary(
        duration=_span(started, updated) if job.status.is_terminal else None,
        queued=_span(created, started),
        rows=number_of(statistics.get("row_count")),
        bytes=number_of(statistics.get("bytes")),
        details=tuple(details),
    )


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _span(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None or start.tzinfo != end.tzinfo:
        return None
    seconds = (end - start).total_seconds()
    return seconds if seconds >= 0 else None
