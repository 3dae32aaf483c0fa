"""Tinybird Jobs API: copy, import, populate and sink jobs, watched through /v0/jobs.

Job details leave the Jobs API 48 hours after creation; a monitor that outlives that reads the
job's last state from the ``tinybird.jobs_log`` service data source through the SQL endpoint.

The job list has no paging: it shows the 100 newest jobs (by creation) of the last 48 hours. An
event watcher's window read (``list_window``) therefore falls back to ``jobs_log`` whenever that
list may have overflowed (100 entries, the oldest still newer than the window's start) and when
the window starts before the Jobs API's 48 hours (a triggerer that was down that long).

Links: a Tinybird job has no page of its own in Tinybird's UI, and a job answer names neither the
workspace nor the region the UI's URLs need, so there is no "Job" button; ``job_api_url`` is the
job's API resource. Lineage: pipe -> target data source (copy, populate, sink), file URL -> data
source (import), in the ``tinybird://<API host>`` namespace.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from airflow_jobs_provider.apis import tinybird_story
from airflow_jobs_provider.apis.base import BatchResult, HttpJobsApi, answer, created_field
from airflow_jobs_provider.apis.exchange import Exchange, Request, Response
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.lineage import Dataset, JobLineage, dataset_from, unique
from airflow_jobs_provider.apis.links import JobLinks, checked_or_none, host_of
from airflow_jobs_provider.apis.paging import DEFAULT_MAX_PAGES, ListWindow, PageReader, page_budget, read_pages
from airflow_jobs_provider.apis.story import StoryPage, Summary
from airflow_jobs_provider.apis.values import dig, epoch, iso_utc, progress_value, quote_job_id, quote_segment
from airflow_jobs_provider.exceptions import JobNotFoundError, JobOutcomeError, JobsApiError, JobsConfigError, JobsError

STATES: dict[str, JobStatus] = {
    "waiting": JobStatus.PENDING,
    "working": JobStatus.RUNNING,
    "cancelling": JobStatus.RUNNING,
    "done": JobStatus.SUCCEEDED,
    "error": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
}

LIST_FILTERS = ("kind", "status", "pipe_id", "pipe_name", "created_after", "created_before")

# kind -> (path template, keys that fill the path); every other key of the spec is a query parameter.
START_ENDPOINTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "copy": ("/v0/pipes/{pipe}/copy", ("pipe",)),
    "sink": ("/v0/pipes/{pipe}/sink", ("pipe",)),
    "populate": ("/v0/pipes/{pipe}/nodes/{node}/population", ("pipe", "node")),
    "import": ("/v0/datasources", ()),
}

LISTED_KINDS = {"copy": "copy", "sink": "sink", "populate": "populateview", "import": "import"}
"""The ``kind`` a started job has in the job list, per ``kind`` of the start spec."""

JOBS_LOG_ID = re.compile(r"[A-Za-z0-9_-]+")
JOBS_LOG_COLUMNS = (
    "job_id, job_type, status, error, pipe_id, pipe_name, datasource_id, datasource_name, "
    "created_at, updated_at, started_at"
)
MAX_LISTED = 100
"""The Jobs API lists at most this many jobs: the newest by creation, filtered, then cut."""
JOBS_API_HOURS = 48
"""How long a job stays in the Jobs API (``JOB_TTL_IN_HOURS``); after that only jobs_log has it."""
WINDOW_MARGIN = 3600.0
"""A window that starts within this of the 48 hours' edge is read from jobs_log too (clocks differ)."""
LOG_PAGE_SIZE = 500
LOG_COLUMNS_OF = {"kind": "job_type", "status": "status", "pipe_id": "pipe_id", "pipe_name": "pipe_name"}
"""Jobs API list filter -> jobs_log column."""
LOG_VALUE = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
"""What a filter value may hold to be written into a jobs_log query (no quoting, no injection)."""


class TinybirdApi(HttpJobsApi):
    name = "tinybird"
    states = STATES
    cancelling_states = frozenset({"cancelling"})
    windowed = True
    supports_batch_get = True  # jobs_log: job_id IN (...), final rows only (see ``get_jobs_request``)
    batch_size = 50  # 50 quoted ids keep the GET's URL near 3 KB
    batch_min_jobs = 10  # it answers for ended jobs only: a few running ones cost a batch and their GETs
    supports_changed_feed = True  # jobs_log: the jobs that ended since a time (see ``changed_since``)
    feed_overlap = 120.0  # jobs_log is a data source fed after the fact: its rows may land late

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.token}"} if self.settings.token else {}

    def start_request(self, spec: Mapping[str, Any]) -> Request:
        params = dict(spec)
        kind = params.pop("kind", None)
        if kind not in START_ENDPOINTS:
            raise JobsConfigError(
                f"tinybird job spec needs 'kind', one of {', '.join(START_ENDPOINTS)}; got {kind!r}. "
                "Example: {'kind': 'copy', 'pipe': 'daily_rollup'}"
            )
        template, path_keys = START_ENDPOINTS[kind]
        segments = {}
        for key in path_keys:
            value = params.pop(key, None)
            if not isinstance(value, str) or not value.strip():
                raise JobsConfigError(f"tinybird {kind} job spec needs {key!r} (a name), got {value!r}")
            segments[key] = quote_segment(value, f"tinybird {kind} {key}")
        if kind == "import" and not (params.get("name") and params.get("url")):
            raise JobsConfigError(
                "tinybird import job spec needs 'name' (the data source) and 'url' (the file to import)"
            )
        query = {key: _query_value(value) for key, value in params.items() if value is not None}
        return Request("POST", template.format(**segments), params=query, headers=self.headers(), replayable=False)

    def parse_started(self, response: Response) -> Job:
        body = self.json_object(response, "start a job")
        job_id = dig(body, "job.id") or dig(body, "job.job_id") or body.get("id") or body.get("job_id")
        if not isinstance(job_id, str) or not job_id:
            raise JobsApiError(f"tinybird accepted the job but its answer carries no job id: {str(body)[:200]}")
        raw = dig(body, "job.status") or body.get("status") or "waiting"
        url = body.get("job_url") or dig(body, "job.job_url") or self.job_url(job_id)
        return Job(job_id, self.resolve(raw, job_id), str(raw), url=url, payload=dict(body))

    def get_request(self, job_id: str) -> Request:
        return Request("GET", f"/v0/jobs/{quote_job_id(job_id)}", headers=self.headers())

    def get_job(self, job_id: str) -> Exchange[Job]:
        response = yield self.get_request(job_id)
        if response.status == 404 and JOBS_LOG_ID.fullmatch(job_id):
            logged = yield self.jobs_log_request(job_id)
            return self.parse_jobs_log(self.checked(logged, "read jobs_log for", job_id), job_id)
        return self.parse_job(self.checked(response, "read", job_id), job_id)

    def parse_job(self, response: Response, job_id: str) -> Job:
        body = self.json_object(response, f"read job {job_id}")
        raw = body.get("status")
        if not isinstance(raw, str):
            raise self.missing_field(job_id, body, "status")
        return Job(
            job_id=str(body.get("id") or job_id),
            status=self.resolve(raw, job_id),
            raw_status=raw,
            url=body.get("job_url") or self.job_url(job_id),
            progress=progress_value(body.get("progress_percentage")),
            message=_error_message(body),
            payload=dict(body),
        )

    def list_request(self, filters: Mapping[str, Any]) -> Request:
        unknown = sorted(set(filters) - set(LIST_FILTERS))
        if unknown:
            raise JobsConfigError(
                f"tinybird cannot filter jobs by {', '.join(unknown)}; use {', '.join(LIST_FILTERS)}"
            )
        params = {key: _query_value(value) for key, value in filters.items() if value is not None}
        if any(isinstance(value, (list, tuple, dict, set)) for value in filters.values()):
            raise JobsConfigError("tinybird filters take one value each (e.g. status='done'), not lists")
        return Request("GET", "/v0/jobs", params=params, headers=self.headers())

    def parse_list(self, response: Response) -> list[Job]:
        jobs = self.json_object(response, "list jobs").get("jobs")
        if not isinstance(jobs, list):
            raise JobsApiError("tinybird's job list has no 'jobs' array")
        if not all(isinstance(item, Mapping) for item in jobs):
            raise JobsApiError("tinybird's job list holds entries that are not job objects")
        return [self.parse_job(Response(response.status, item), str(item.get("id"))) for item in jobs]

    # -- window read: the list, and jobs_log when the list cannot hold the window (module docstring)
    def list_window(
        self,
        filters: Mapping[str, Any],
        *,
        since: float | None = None,
        until: float | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
        now: float | None = None,
    ) -> Exchange[ListWindow]:
        budget = page_budget(max_pages)
        first = self.list_request(filters)  # checks the filters before any jobs_log query is written
        reader = PageReader(self.order_time, since, MAX_LISTED)
        if until is None:
            response = yield first
            page = self.parse_list(self.checked(reader.answered(response), "list jobs"))
            reader.add(page)
            reason = self._log_reason(page, since, reader.server_time or now)
            if reason is None:
                return reader.window(complete=True)
            reader.switch(LOG_PAGE_SIZE, f"read tinybird.jobs_log: {reason}")
        else:
            reader.switch(LOG_PAGE_SIZE, "read tinybird.jobs_log: the window ends in the past")
        if reader.pages >= budget:
            reader.problems.append(f"stopped after {reader.pages} pages; jobs_log is read at the next poll")
            return reader.window(complete=False)

        def page_request(offset: int) -> Request:
            return self.jobs_log_window_request(filters, since, until, offset)

        def parse(response: Response) -> list[Job]:
            return self.parse_jobs_log_rows(self.checked(response, "query jobs_log"))

        return (yield from read_pages(page_request, parse, reader, budget))

    def _log_reason(self, page: list[Job], since: float | None, clock: float | None) -> str | None:
        """Why the list alone does not hold the window (so jobs_log is read), or None when it does."""
        if since is not None and clock is not None and since < clock - JOBS_API_HOURS * 3600 + WINDOW_MARGIN:
            return f"the window starts more than {JOBS_API_HOURS} h ago, before the Jobs API's retention"
        if len(page) < MAX_LISTED:
            return None
        created = [moment for job in page if (moment := epoch(job.payload.get("created_at"))) is not None]
        if since is not None and created and min(created) < since:
            return None
        return f"the list holds {len(page)} jobs, its limit, all newer than the window's start"

    def order_time(self, job: Job) -> float | None:
        return epoch(job.payload.get("updated_at"))

    # -- shared polls (triggers/batch_poller.py): jobs_log for many jobs at once
    def changed_since(self, since: float | None, max_pages: int) -> Exchange[ListWindow]:
        """The jobs that *ended* since ``since``, from jobs_log (the window query event watchers use).

        Not the Jobs API's list: it holds the 100 newest jobs by creation, so it cannot say which older
        job changed, and none older than 48 h. A move between waiting and working is not in this feed
        (jobs_log is read for final rows only); a watched job's end is, whatever its age.
        """
        budget = page_budget(max_pages if since is not None else 1)
        reader = PageReader(self.order_time, since, LOG_PAGE_SIZE)

        def page_request(offset: int) -> Request:
            return self.jobs_log_window_request({}, since, None, offset)

        def parse(response: Response) -> list[Job]:
            return self.parse_jobs_log_rows(self.checked(response, "query jobs_log"))

        return (yield from read_pages(page_request, parse, reader, budget))

    def get_jobs_request(self, job_ids: Sequence[str]) -> Request:
        """The final rows of ``job_ids`` in jobs_log. A job still waiting or working, or whose row has not
        landed yet, is absent, and read on its own: a non-final row may lag the Jobs API, a final one cannot."""
        if not job_ids or len(job_ids) > self.batch_size:
            raise ValueError(f"a jobs_log batch reads 1..{self.batch_size} ids, got {len(job_ids)}")
        bad = [job_id for job_id in job_ids if not JOBS_LOG_ID.fullmatch(job_id)]
        if bad:
            raise JobsConfigError(f"tinybird job id {bad[0][:80]!r} cannot be looked up in jobs_log")
        finals = sorted(raw for raw, status in self.state_map.table.items() if status.is_terminal)
        ids = ", ".join(f"'{job_id}'" for job_id in job_ids)
        sql = (
            f"SELECT {JOBS_LOG_COLUMNS} FROM tinybird.jobs_log WHERE job_id IN ({ids}) AND "
            f"status IN ({', '.join(_sql_text(raw, 'a final state') for raw in finals)}) "
            f"ORDER BY updated_at DESC LIMIT {2 * len(job_ids)} FORMAT JSON"
        )
        return Request("GET", "/v0/sql", params={"q": sql}, headers=self.headers())

    def parse_jobs(self, response: Response, job_ids: Sequence[str]) -> dict[str, BatchResult]:
        """The newest final row of each asked id; rows of ids not asked for are ignored (an answer is untrusted)."""
        rows = self.json_object(response, "query jobs_log").get("data")
        if not isinstance(rows, list):
            self.parse_jobs_log_rows(response)  # raises the error that says what is wrong
        asked = set(job_ids)
        found: dict[str, BatchResult] = {}
        for row in rows or ():
            job_id = row.get("job_id") if isinstance(row, Mapping) else None
            if job_id not in asked or job_id in found:
                continue
            try:
                job = self.job_from_log_row(row, job_id)
            except (JobsError, JobOutcomeError) as error:  # this row's fault, not the batch's
                found[job_id] = error
                continue
            if job.status.is_terminal:
                found[job_id] = job
        return found

    def jobs_log_window_request(
        self, filters: Mapping[str, Any], since: float | None, until: float | None, offset: int
    ) -> Request:
        """Finished jobs last updated within ``[since, until]``, newest first, one page of ``LOG_PAGE_SIZE``."""
        finals = sorted(raw for raw, status in self.state_map.table.items() if status.is_terminal)
        conditions = [f"status IN ({', '.join(_sql_text(raw, 'a final state') for raw in finals)})"]
        if since is not None:
            conditions.append(f"updated_at >= {_sql_time(math.floor(since))}")
        if until is not None:
            conditions.append(f"updated_at <= {_sql_time(math.ceil(until))}")
        for name, value in filters.items():
            if value is None:
                continue
            if name in ("created_after", "created_before"):
                moment = epoch(value)
                if moment is None:
                    raise JobsConfigError(f"tinybird filter {name} must be an ISO 8601 time, got {value!r}")
                operator = ">" if name == "created_after" else "<"
                conditions.append(f"created_at {operator} {_sql_time(moment)}")
            else:
                conditions.append(f"{LOG_COLUMNS_OF[name]} = {_sql_text(value, f'filter {name}')}")
        sql = (
            f"SELECT {JOBS_LOG_COLUMNS} FROM tinybird.jobs_log WHERE {' AND '.join(conditions)} "
            f"ORDER BY updated_at DESC LIMIT {LOG_PAGE_SIZE} OFFSET {int(offset)} FORMAT JSON"
        )
        return Request("GET", "/v0/sql", params={"q": sql}, headers=self.headers())

    def parse_jobs_log_rows(self, response: Response) -> list[Job]:
        """The rows of a jobs_log query as Jobs (``payload["source"] == "jobs_log"``)."""
        rows = self.json_object(response, "query jobs_log").get("data")
        if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
            raise JobsApiError(
                "tinybird's jobs_log answer has no 'data' array of rows: check that the connection's token may "
                "read the tinybird.jobs_log service data source (scope PIPES:READ or admin)"
            )
        jobs = []
        for row in rows:
            job_id = row.get("job_id")
            if not isinstance(job_id, str) or not job_id:
                raise JobsApiError(f"tinybird's jobs_log holds a row without a job_id: {str(row)[:200]}")
            jobs.append(self.job_from_log_row(row, job_id))
        return jobs

    def cancel_request(self, job_id: str) -> Request:
        return Request("POST", f"/v0/jobs/{quote_job_id(job_id)}/cancel", headers=self.headers())

    def checked(self, response: Response, action: str, job_id: str | None = None) -> Response:
        if response.status == 400 and action == "cancel":
            raise JobsApiError(
                f"tinybird will not cancel job {job_id}: {dig(response.body, 'error') or response.body}. "
                "Only waiting jobs (and working populate jobs) can be cancelled.",
                status_code=400,
            )
        return super().checked(response, action, job_id)

    def jobs_log_request(self, job_id: str) -> Request:
        if not JOBS_LOG_ID.fullmatch(job_id):
            raise JobNotFoundError(f"tinybird job id {job_id!r} cannot be looked up in jobs_log", status_code=404)
        sql = (
            f"SELECT {JOBS_LOG_COLUMNS} FROM tinybird.jobs_log WHERE job_id = '{job_id}' "
            "ORDER BY updated_at DESC LIMIT 1 FORMAT JSON"
        )
        return Request("GET", "/v0/sql", params={"q": sql}, headers=self.headers())

    def parse_jobs_log(self, response: Response, job_id: str) -> Job:
        rows = self.json_object(response, "query jobs_log").get("data")
        if not isinstance(rows, list) or not rows:
            raise JobNotFoundError(
                f"tinybird has no job {job_id}, neither in the Jobs API nor in tinybird.jobs_log at "
                f"{self.settings.base_url}: check the job id and the workspace of connection "
                f"{self.settings.conn_id!r}",
                status_code=404,
            )
        row = rows[0]
        if not isinstance(row, Mapping):
            raise JobsApiError(f"tinybird's jobs_log answer for job {job_id} holds a row that is not an object")
        return self.job_from_log_row(row, job_id)

    def job_from_log_row(self, row: Mapping[str, Any], job_id: str) -> Job:
        raw = row.get("status")
        if not isinstance(raw, str):
            raise self.missing_field(job_id, row, "status")
        return Job(
            job_id=job_id,
            status=self.resolve(raw, job_id),
            raw_status=raw,
            url=self.job_url(job_id),
            message=row.get("error") or None,
            payload={"source": "jobs_log", **row},
        )

    def job_url(self, job_id: str) -> str:
        return f"{self.settings.base_url}/v0/jobs/{quote_job_id(job_id)}"

    # -- the job's story: its detail, and its ops-log rows when it failed (apis/tinybird_story.py)
    def story(self, job: Job, cursor: Mapping[str, Any] | None) -> Exchange[StoryPage]:
        return (yield from tinybird_story.story(self, job, cursor))

    def summary(self, job: Job) -> Summary:
        return tinybird_story.summary(job)

    # -- the job of a start: same kind, same pipe (an import: same data source), created since
    def target_filters(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        kind = spec["kind"]
        filters = {"kind": LISTED_KINDS[kind]}
        if kind != "import":
            filters["pipe_name"] = spec["pipe"]
        return filters

    def created_filters(self, since: float) -> dict[str, Any]:
        return {"created_after": iso_utc(since)}

    def same_target(self, spec: Mapping[str, Any], job: Job) -> bool:
        payload = job.payload
        if payload.get("kind") != LISTED_KINDS[spec["kind"]]:
            return False
        if spec["kind"] == "import":
            return dig(payload, "datasource.name") == spec.get("name")
        return payload.get("pipe_name") == spec["pipe"]

    def created_at(self, job: Job) -> float | None:
        return created_field(job, "created_at")
    # -- links and lineage
    def job_links(self, job: Job) -> Exchange[JobLinks]:
        """No UI page (see the module docstring); the API resource only on the connection's host."""
        problems: list[str] = []
        given = checked_or_none(job.url, "tinybird's job_url", {host_of(self.settings.base_url)}, problems)
        return (yield from answer(JobLinks(api=given or self.job_url(job.job_id), problems=tuple(problems))))

    def job_lineage(self, job: Job, spec: Mapping[str, Any] | None = None) -> Exchange[JobLineage]:
        return (yield from answer(tinybird_lineage(self.settings.base_url, job.payload, spec or {})))


SPEC_KINDS = {"copy": "copy", "sink": "sink", "populate": "populateview", "import": "import"}
"""A start spec's ``kind`` -> the job kind Tinybird reports."""


def tinybird_lineage(base_url: str, payload: Mapping[str, Any], spec: Mapping[str, Any]) -> JobLineage:
    """Pipe -> data source, or file URL -> data source, from the job answer and else the start spec.

    A start answer holds the job under ``job``; the file URL of an import loses its query (a
    signed URL's signature) and any user info, so no secret names a dataset.
    """
    inner = payload.get("job")
    body: Mapping[str, Any] = inner if isinstance(inner, Mapping) else payload
    namespace = f"tinybird://{host_of(base_url) or 'api.tinybird.co'}"
    kind = body.get("kind") or SPEC_KINDS.get(str(spec.get("kind")))
    inputs: list[Dataset] = []
    outputs: list[Dataset] = []
    pipe = body.get("pipe_name") or spec.get("pipe")
    if isinstance(pipe, str) and pipe and kind != "import":
        inputs.append(Dataset(namespace, f"pipes/{pipe}"))
    source = body.get("url") if isinstance(body.get("url"), str) else spec.get("url")
    if kind == "import" and isinstance(source, str) and (file := dataset_from(source)) is not None:
        inputs.append(file)
    datasource = dig(body, "datasource.name") or (spec.get("name") if kind == "import" else None)
    if isinstance(datasource, str) and datasource:
        outputs.append(Dataset(namespace, f"datasources/{datasource}"))
    statistics: dict[str, Any] = {}
    if isinstance(body.get("statistics"), Mapping):
        statistics.update({key: value for key, value in body["statistics"].items() if isinstance(value, (int, float))})
    for key in ("quarantine_rows", "invalid_lines", "progress_percentage"):
        if isinstance(body.get(key), (int, float)) and not isinstance(body.get(key), bool):
            statistics[key] = body[key]
    return JobLineage(unique(inputs), unique(outputs), statistics, source="tinybird job")


def _error_message(body: Mapping[str, Any]) -> str | None:
    errors = body.get("errors") or []
    parts = [body.get("error"), *(errors if isinstance(errors, list) else [errors])]
    said = dict.fromkeys(str(part) for part in parts if part)  # Tinybird often repeats `error` in `errors`
    return "; ".join(said) or None


def _sql_text(value: Any, what: str) -> str:
    """A value as a quoted SQL string; only plain names and times, so nothing needs escaping."""
    text = _query_value(value)
    if not LOG_VALUE.fullmatch(text):
        raise JobsConfigError(
            f"tinybird {what} {text[:80]!r} cannot be used in a jobs_log query: use letters, digits and _ . : - only"
        )
    return f"'{text}'"


def _sql_time(moment: float) -> str:
    """Epoch seconds as a ClickHouse DateTime literal (UTC, whole seconds)."""
    return f"'{datetime.fromtimestamp(moment, tz=timezone.utc).strftime('%Y-%m-%d %H:%M:%S')}'"


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
