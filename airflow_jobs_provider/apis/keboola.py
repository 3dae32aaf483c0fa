"""Keboola Queue API: component jobs started with ``POST /jobs`` and watched through ``/jobs/{id}``.

Keboola marks every final job with ``isFinished``. For a state its table does not know, the
adapter trusts that flag: a new transient state keeps the task waiting, a new final one fails it
(it is never taken for success). ``warning`` (finished, but a child job failed) is FAILED unless a
task maps it with ``status_overrides={"warning": "SUCCEEDED"}``.

Links: the job's page is ``https://connection.<stack>/admin/projects/<projectId>[/branch/<branchId>]
/queue/<jobId>``, on the Storage host the Queue host ``queue.<stack>`` implies (connection extra
``ui_url`` names it otherwise). Lineage: the Queue API's own ``GET /jobs/{id}/open-api-lineage``
events, else the tables of ``result.input`` / ``result.output``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from airflow_jobs_provider.apis import keboola_story
from airflow_jobs_provider.apis.base import BatchResult, HttpJobsApi, created_field
from airflow_jobs_provider.apis.exchange import Exchange, Request, Response
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.lineage import Dataset, JobLineage, dataset_from, unique
from airflow_jobs_provider.apis.links import UI_URL_EXTRA, JobLinks, checked_or_none, checked_url, host_of
from airflow_jobs_provider.apis.paging import (
    DEFAULT_MAX_PAGES,
    ListWindow,
    PageReader,
    merged_filters,
    offset_param,
)
from airflow_jobs_provider.apis.story import StoryPage, Summary, bounded, extra_url
from airflow_jobs_provider.apis.values import dig, epoch, iso_utc, iso_utc_up, quote_job_id, quote_segment
from airflow_jobs_provider.exceptions import JobOutcomeError, JobsApiError, JobsConfigError, JobsError

STATES: dict[str, JobStatus] = {
    "created": JobStatus.PENDING,
    "waiting": JobStatus.PENDING,
    "processing": JobStatus.RUNNING,
    "terminating": JobStatus.RUNNING,
    "success": JobStatus.SUCCEEDED,
    "warning": JobStatus.FAILED,
    "error": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
    "terminated": JobStatus.CANCELLED,
}

TOKEN_HEADER = "X-StorageApi-Token"
RUN_ID_HEADER = "X-KBC-RunId"
PARENT_RUN_KEY = "parentRunId"
"""Spec key naming the run the new job joins as a child; it travels as the X-KBC-RunId header."""

MODES = ("run", "forceRun", "debug")
BODY_FIELDS = (
    "component", "mode", "config", "configData", "configRowIds", "tag", "branchId", "variableValuesId",
    "variableValuesData", "backend", "executor", "delayedStartTime", "delay", "parallelism", "orchestrationJobId",
)  # fmt: skip
RUN_ID = re.compile(r"\d+(\.\d+)*")

# /search/jobs filters: the first take several values (sent as name[]=a&name[]=b), the others one.
MULTI_FILTERS = (
    "id", "runId", "branchId", "tokenId", "tokenDescription", "componentId", "configId", "configRowIds", "mode",
    "status",
)  # fmt: skip
SINGLE_FILTERS = (
    "type", "parentRunId", "createdTimeFrom", "createdTimeTo", "startTimeFrom", "startTimeTo", "endTimeFrom",
    "endTimeTo", "durationSecondsFrom", "durationSecondsTo", "offset", "limit", "sortBy", "sortOrder",
)  # fmt: skip
FILTER_ALIASES = {"component": "componentId", "config": "configId"}  # Keboola's deprecated names
LIST_FILTERS = (*MULTI_FILTERS, *FILTER_ALIASES, *SINGLE_FILTERS)

PAGE_SIZE = 100
"""A watcher's page: the search's default (``limit`` in its filters asks for another, up to ``MAX_PAGE_SIZE``)."""
MAX_PAGE_SIZE = 500
"""The Queue API documents no maximum; 500 keeps one answer (full job objects) a few hundred KB."""
WINDOW_OWNED = ("offset", "sortBy", "sortOrder", "endTimeFrom", "endTimeTo")
"""What a watcher's window read sets itself: newest end first, one end-time range, offset pages."""

PAYLOAD_FIELDS = (
    "id", "runId", "parentRunId", "status", "desiredStatus", "isFinished", "mode", "type", "component", "config",
    "configRowIds", "branchId", "tag", "createdTime", "startTime", "endTime", "durationSeconds",
)  # fmt: skip
"""What a Job's payload keeps as is: small scalars (``configData`` can be large and hold secrets)."""
BOUNDED_FIELDS = ("result", "metrics")
"""Kept cut to size (apis/story.py ``bounded``): the job's statistics, its tables and its error."""

RUNNING_STATES = ("created", "waiting", "processing", "terminating")
"""States of a job that has not ended (``waiting`` includes the configuration lock)."""
LOOKUP_LIMIT = 100

WARNING_HINT = (
    "keboola state 'warning': the job finished but one of its child jobs failed; to accept that, "
    "set status_overrides={'warning': 'SUCCEEDED'} on the task"
)


class KeboolaApi(HttpJobsApi):
    name = "keboola"
    states = STATES
    cancelling_states = frozenset({"terminating"})
    windowed = True
    supports_batch_get = True  # /search/jobs takes id[]=…&id[]=…
    batch_size = 100  # the search's default page; an explicit limit asks for exactly that many

    def headers(self) -> dict[str, str]:
        return {TOKEN_HEADER: self.settings.token} if self.settings.token else {}

    # -- start
    def start_request(self, spec: Mapping[str, Any]) -> Request:
        body = {key: value for key, value in spec.items() if value is not None}
        parent = body.pop(PARENT_RUN_KEY, None)
        unknown = sorted(set(body) - set(BODY_FIELDS))
        if unknown:
            raise JobsConfigError(
                f"keboola job spec has unknown key(s) {', '.join(unknown)}; use Keboola's own names: "
                f"{', '.join(BODY_FIELDS)}, plus {PARENT_RUN_KEY!r} for a parent run"
            )
        _check_component(body)
        _check_configuration(body)
        body.setdefault("mode", "run")
        if body["mode"] not in MODES:
            raise JobsConfigError(f"keboola job mode must be one of {', '.join(MODES)}; got {body['mode']!r}")
        if "configRowIds" in body:
            body["configRowIds"] = _string_list(body["configRowIds"], "configRowIds")
        if "delay" in body and "delayedStartTime" in body:
            raise JobsConfigError("keboola job spec: give 'delay' or 'delayedStartTime', not both")
        headers = self.headers()
        if parent not in (None, ""):
            headers[RUN_ID_HEADER] = _run_id(parent)
        return Request("POST", "/jobs", json=body, headers=headers, replayable=False)

    def parse_started(self, response: Response) -> Job:
        body = self.json_object(response, "start a job")
        job_id = _job_id(body.get("id"))
        if job_id is None:
            raise JobsApiError(f"keboola accepted the job but its answer carries no job id: {str(body)[:200]}")
        return self.job_from(body, job_id)

    # -- watch and cancel
    def get_request(self, job_id: str) -> Request:
        return Request("GET", f"/jobs/{quote_job_id(job_id)}", headers=self.headers())

    def parse_job(self, response: Response, job_id: str) -> Job:
        return self.job_from(self.json_object(response, f"read job {job_id}"), job_id)

    def cancel_request(self, job_id: str) -> Request:
        return Request("POST", f"/jobs/{quote_job_id(job_id)}/kill", headers=self.headers())

    # -- list
    def list_request(self, filters: Mapping[str, Any]) -> Request:
        unknown = sorted(set(filters) - set(LIST_FILTERS))
        if unknown:
            raise JobsConfigError(
                f"keboola cannot filter jobs by {', '.join(unknown)}; use {', '.join(LIST_FILTERS)}"
            )
        params: dict[str, str | list[str]] = {}
        given: dict[str, str] = {}
        for name, value in filters.items():
            if value is None:
                continue
            key = FILTER_ALIASES.get(name, name)
            if key in given:
                raise JobsConfigError(f"keboola filters {given[key]!r} and {name!r} are the same; give one of them")
            given[key] = name
            if key in MULTI_FILTERS:
                params[f"{key}[]"] = _filter_values(value, name)
            elif isinstance(value, (list, tuple, set, Mapping)):
                raise JobsConfigError(f"keboola filter {name!r} takes one value, got {value!r}")
            else:
                params[key] = _text(value)
        return Request("GET", "/search/jobs", params=params, headers=self.headers())

    def parse_list(self, response: Response) -> list[Job]:
        items = response.body
        if not isinstance(items, list):
            raise JobsApiError(
                f"keboola's job search did not answer with a JSON array: {str(items)[:200]}; "
                f"is {self.settings.base_url} the Queue API (https://queue.<stack>)?"
            )
        if not all(isinstance(item, Mapping) for item in items):
            raise JobsApiError("keboola's job search holds entries that are not job objects")
        return [self.job_from(item, _job_id(item.get("id")) or "?") for item in items]

    # -- window read: newest end first, back to ``since`` (apis/paging.py)
    def list_window(
        self,
        filters: Mapping[str, Any],
        *,
        since: float | None = None,
        until: float | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
        now: float | None = None,
    ) -> Exchange[ListWindow]:
        """Finished jobs that ended within ``[since, until]``: ``endTimeFrom``/``endTimeTo``, sorted by
        ``endTime`` descending, ``offset`` pages of ``limit``. Running jobs have no end time yet; they
        show once they end, at the top, newer than any window already read."""
        query = merged_filters(filters, WINDOW_OWNED, self.name, "it pages by end time")
        size = _page_size(query.pop("limit", PAGE_SIZE))
        query.update(sortBy="endTime", sortOrder="desc", limit=size)
        if since is not None:
            query["endTimeFrom"] = iso_utc(since)
        if until is not None:
            query["endTimeTo"] = iso_utc_up(until)
        reader = PageReader(self.order_time, since, size)
        return (yield from self.list_pages(query, offset_param, reader, max_pages))

    def order_time(self, job: Job) -> float | None:
        return epoch(job.payload.get("endTime"))

    # -- batch read: one search for many ids (triggers/batch_poller.py)
    def get_jobs_request(self, job_ids: Sequence[str]) -> Request:
        return self.list_request({"id": list(job_ids), "limit": len(job_ids)})

    def parse_jobs(self, response: Response, job_ids: Sequence[str]) -> dict[str, BatchResult]:
        """The asked-for jobs in a search answer; an entry that cannot be read fails only its own job."""
        items = response.body
        if not isinstance(items, list):
            raise JobsApiError(
                f"keboola's job search did not answer with a JSON array: {str(items)[:200]}; "
                f"is {self.settings.base_url} the Queue API (https://queue.<stack>)?"
            )
        wanted = set(job_ids)
        found: dict[str, BatchResult] = {}
        for item in items:
            job_id = _job_id(item.get("id")) if isinstance(item, Mapping) else None
            if job_id is None or job_id not in wanted:  # not ours, or unreadable: its job falls back to a GET
                continue
            try:
                found[job_id] = self.job_from(item, job_id)
            except (JobsError, JobOutcomeError) as error:
                found[job_id] = error
        return found

    def probe(self) -> Exchange[str]:
        response = yield self.list_request({"limit": 1})
        self.checked(response, "list jobs")
        return f"Connected to the keboola Queue API at {self.settings.base_url}"

    # -- reading jobs and errors
    def job_from(self, body: Mapping[str, Any], job_id: str) -> Job:
        raw = body.get("status")
        if not isinstance(raw, str):
            raise self.missing_field(job_id, body, "status")
        job_id = _job_id(body.get("id")) or job_id
        status, note = self.status_of(raw, body.get("isFinished"), job_id)
        message = "; ".join(part for part in (result_message(body.get("result")), note) if part)
        url = body.get("url")
        return Job(
            job_id=job_id,
            status=status,
            raw_status=raw,
            url=url if isinstance(url, str) and url else self.job_url(job_id),
            message=message or None,
            payload={
                **{key: body[key] for key in PAYLOAD_FIELDS if key in body},
                **{key: bounded(as_object(body[key])) for key in BOUNDED_FIELDS if key in body},
            },
        )

    def status_of(self, raw: str, finished: Any, job_id: str) -> tuple[JobStatus, str | None]:
        """The canonical state and a note; ``isFinished`` decides for a state the table lacks."""
        known = self.state_map.table.get(raw)
        if known is not None:
            return known, WARNING_HINT if raw == "warning" and known is JobStatus.FAILED else None
        if finished is False:
            return JobStatus.RUNNING, f"keboola state {raw!r} is not known here; isFinished is false, so waiting on"
        if finished is True:
            return JobStatus.FAILED, (
                f"keboola ended the job in state {raw!r}, which this task does not know, so it counts as failed; "
                f"if that state means success, set status_overrides={{{raw!r}: 'SUCCEEDED'}}"
            )
        return self.resolve(raw, job_id), None  # no usable isFinished: UnknownJobStateError

    def checked(self, response: Response, action: str, job_id: str | None = None) -> Response:
        """The base errors, plus Keboola's exceptionId (what its support asks for) and errorCode."""
        try:
            return super().checked(response, action, job_id)
        except JobsApiError as error:
            reference = error_reference(response.body)
            if not reference:
                raise
            raise type(error)(f"{error} [{reference}]", status_code=error.http_status) from None

    def job_url(self, job_id: str) -> str:
        return f"{self.settings.base_url}/jobs/{quote_job_id(job_id)}"

    # -- the job's story: its run's Storage API events (apis/keboola_story.py)
    @cached_property
    def storage_url(self) -> str:
        """The Storage API base the run's events are read from: extra ``storage_url``, else the
        ``connection.`` host that a ``queue.`` host implies (``stack_storage_url``), else the
        connection's own host (a proxy, the emulator). Not extra ``ui_url``: that names the web UI."""
        given = extra_url(self.settings, keboola_story.STORAGE_EXTRA, "https://connection.keboola.com")
        return given or stack_storage_url(self.settings.base_url) or self.settings.base_url

    story_costs_requests = True  # the run's events: a Storage API request per read

    def story(self, job: Job, cursor: Mapping[str, Any] | None) -> Exchange[StoryPage]:
        return (yield from keboola_story.story(self, job, cursor))

    def summary(self, job: Job) -> Summary:
        return keboola_story.summary(job)

    # -- the job of a start: same component, configuration and branch, created since
    def find_running(self, spec: Mapping[str, Any]) -> Exchange[list[Job]]:
        if spec.get("configData") is not None or spec.get("config") is None:
            raise JobsConfigError(
                "keboola: if_running other than 'start' needs a stored configuration ('config'): a job of an "
                "inline 'configData' has no configuration that tells which running job is the same one. "
                "Use if_running='start', or store the configuration and pass its id as 'config'"
            )
        return (yield from super().find_running(spec))

    def target_filters(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        filters: dict[str, Any] = {"componentId": spec["component"], "limit": LOOKUP_LIMIT}
        if spec.get("configData") is None and spec.get("config") is not None:
            filters["configId"] = str(spec["config"])  # an inline configData overrides config (job-apis.md §2.4)
        filters["branchId"] = str(spec["branchId"]) if spec.get("branchId") is not None else "null"
        return filters

    def created_filters(self, since: float) -> dict[str, Any]:
        return {"createdTimeFrom": iso_utc(since), "sortBy": "createdTime", "sortOrder": "desc"}

    def running_filters(self) -> dict[str, Any]:
        return {"status": list(RUNNING_STATES)}

    def same_target(self, spec: Mapping[str, Any], job: Job) -> bool:
        payload = job.payload
        inline = spec.get("configData") is not None
        config = None if inline or spec.get("config") is None else str(spec["config"])
        branch = None if spec.get("branchId") is None else str(spec["branchId"])
        listed_branch = payload.get("branchId")
        return (
            payload.get("component") == spec["component"]
            and (payload.get("config") is None if inline else _text(payload.get("config")) == config)
            and (None if listed_branch in (None, "") else str(listed_branch)) == branch
        )

    def created_at(self, job: Job) -> float | None:
        return created_field(job, "createdTime")

    # -- links and lineage
    def ui_base_url(self) -> str | None:
        """The stack's UI base (job pages, the lineage namespace): extra ``ui_url``, else the
        ``connection.`` host that a ``queue.`` host implies (``stack_storage_url``), else None."""
        given = self.settings.extras.get(UI_URL_EXTRA)
        if given:
            return checked_url(given, f"connection {self.settings.conn_id!r} extra {UI_URL_EXTRA!r}").rstrip("/")
        return stack_storage_url(self.settings.base_url)

    def job_links(self, job: Job) -> Exchange[JobLinks]:
        problems: list[str] = []
        api = checked_or_none(job.url, "keboola's job url", {host_of(self.settings.base_url)}, problems)
        links = JobLinks(api=api or self.job_url(job.job_id), problems=tuple(problems))
        base = self.ui_base_url()
        if base is None:
            return links
        body: Mapping[str, Any] = job.payload
        if not isinstance(dig(body, "project.id"), (str, int)):  # the payload keeps small fields only
            response = yield self.get_request(job.job_id)
            body = self.json_object(self.checked(response, "read", job.job_id), f"read job {job.job_id}")
        project, branch = dig(body, "project.id"), body.get("branchId")
        if isinstance(project, bool) or not isinstance(project, (str, int)) or not str(project).isdigit():
            problems.append(f"keboola's job names no numeric project id ({str(project)[:40]!r})")
            return JobLinks(api=links.api, problems=tuple(problems))
        path = f"/admin/projects/{quote_segment(str(project), 'keboola project id')}"
        if isinstance(branch, (str, int)) and not isinstance(branch, bool) and str(branch).isdigit():
            path += f"/branch/{branch}"
        return JobLinks(page=f"{base}{path}/queue/{quote_job_id(job.job_id)}", api=links.api, problems=links.problems)

    def lineage_request(self, job_id: str) -> Request:
        return Request("GET", f"/jobs/{quote_job_id(job_id)}/open-api-lineage", headers=self.headers())

    def job_lineage(self, job: Job, spec: Mapping[str, Any] | None = None) -> Exchange[JobLineage]:
        """Keboola's own lineage events where the stack answers them, else the job's result tables."""
        response = yield self.lineage_request(job.job_id)
        if response.ok and (found := lineage_from_events(response.body)) is not None and not found.empty:
            return found
        detail = yield self.get_request(job.job_id)
        body = self.json_object(self.checked(detail, "read", job.job_id), f"read job {job.job_id}")
        return lineage_from_result(body, self.ui_base_url() or self.settings.base_url)


def stack_storage_url(base_url: str) -> str | None:
    """``https://connection.<stack>`` for a Queue API URL ``https://queue.<stack>``, else None.

    The one place of Keboola's host rule: a stack serves its Queue API on ``queue.<stack>`` and its
    Storage API and web UI on ``connection.<stack>``. The story's events (``storage_url``) and the
    job's page and lineage (``ui_base_url``) both start from it.
    """
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if not host.startswith("queue."):
        return None
    netloc = parts.netloc.lower().replace(host, "connection." + host[len("queue.") :], 1)
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


def lineage_from_events(events: Any) -> JobLineage | None:
    """Inputs and outputs of the OpenLineage events ``open-api-lineage`` answers (the job's and its children's)."""
    if not isinstance(events, list):
        return None
    inputs: list[Dataset] = []
    outputs: list[Dataset] = []
    for event in events:
        if not isinstance(event, Mapping):
            continue
        for key, found in (("inputs", inputs), ("outputs", outputs)):
            items = event.get(key)
            for item in items if isinstance(items, list) else []:
                if (dataset := dataset_from(item)) is not None:
                    found.append(dataset)
    return JobLineage(unique(inputs), unique(outputs), source="keboola open-api-lineage")


def lineage_from_result(body: Mapping[str, Any], storage_url: str) -> JobLineage:
    """``result.input.tables`` -> ``result.output.tables``, named as Keboola's own lineage events name
    them: namespace ``<storage host>/project/<projectId>``, name the table id (``in.c-main.orders``)."""
    project = dig(body, "project.id")
    namespace = f"{urlsplit(storage_url).netloc.lower()}/project/{project}"
    result = as_object(body.get("result"))

    def tables(side: str) -> tuple[Dataset, ...]:
        items = as_object(result.get(side)).get("tables")
        names = [item.get("id") or item.get("name") for item in items or [] if isinstance(item, Mapping)]
        return unique([Dataset(namespace, name) for name in names if isinstance(name, str) and name])

    metrics = as_object(as_object(body.get("metrics")).get("storage"))
    statistics = {key: value for key, value in metrics.items() if isinstance(value, (int, float))}
    if isinstance(body.get("durationSeconds"), (int, float)):
        statistics["durationSeconds"] = body["durationSeconds"]
    return JobLineage(tables("input"), tables("output"), statistics, source="keboola result tables")


def as_object(value: Any) -> Mapping[str, Any]:
    """A JSON object field, which Keboola sends as ``[]`` (an empty PHP array) when it is empty."""
    return value if isinstance(value, Mapping) else {}


def result_message(result: Any) -> str | None:
    """``result.message`` with what ``result.error`` adds (its type and exceptionId)."""
    fields = as_object(result)
    message = fields.get("message")
    text = message.strip() if isinstance(message, str) else ""
    error = fields.get("error")
    if isinstance(error, str) and error.strip() and error.strip() != text:
        text = f"{text}: {error.strip()}" if text else error.strip()
    elif isinstance(error, Mapping):
        details = []
        if isinstance(error.get("message"), str) and error["message"] and error["message"] != text:
            details.append(error["message"])
        if isinstance(error.get("type"), str) and error["type"]:
            details.append(f"{error['type']} error")
        if isinstance(error.get("exceptionId"), str) and error["exceptionId"]:
            details.append(f"exceptionId {error['exceptionId']}")
        if details:
            text = f"{text} ({', '.join(details)})" if text else ", ".join(details)
    return text or None


def error_reference(body: Any) -> str | None:
    """``exceptionId …, errorCode …`` from Keboola's error body, or None when it has neither."""
    fields = as_object(body)
    parts = []
    if isinstance(fields.get("exceptionId"), str) and fields["exceptionId"]:
        parts.append(f"exceptionId {fields['exceptionId']}")
    code = as_object(fields.get("context")).get("errorCode")
    if isinstance(code, str) and code:
        parts.append(f"errorCode {code}")
    return ", ".join(parts) or None


def _job_id(value: Any) -> str | None:
    """Keboola ids are numeric strings; some answers carry them as numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value):
        return str(value)
    return None


def _check_component(body: Mapping[str, Any]) -> None:
    component = body.get("component")
    if not isinstance(component, str) or not component.strip():
        raise JobsConfigError(
            f"keboola job spec needs 'component' (a component id), got {component!r}. "
            "Example: {'component': 'keboola.ex-db-snowflake', 'config': '554424643'}"
        )


def _check_configuration(body: dict[str, Any]) -> None:
    """A stored configuration (``config``) or an inline one (``configData``, which wins)."""
    if "config" not in body and "configData" not in body:
        raise JobsConfigError(
            "keboola job spec needs 'config' (a stored configuration id) or 'configData' (an inline "
            "configuration, the 'configuration' node of a stored one)"
        )
    if "config" in body:
        config = body["config"]
        if isinstance(config, bool) or not isinstance(config, (str, int)) or not str(config).strip():
            raise JobsConfigError(f"keboola 'config' must be a configuration id such as '554424643', got {config!r}")
        body["config"] = str(config)
    if "configData" in body and not isinstance(body["configData"], Mapping):
        raise JobsConfigError(f"keboola 'configData' must be an object (a dict), got {body['configData']!r}")


def _string_list(value: Any, name: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or any(isinstance(v, bool) or not isinstance(v, (str, int)) for v in value):
        raise JobsConfigError(f"keboola {name!r} must be a list of ids, e.g. ['12345', '67890']; got {value!r}")
    return [str(item) for item in value]


def _run_id(value: Any) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not RUN_ID.fullmatch(text):
        raise JobsConfigError(
            f"keboola {PARENT_RUN_KEY!r} must be the runId of a job, digits joined by dots such as "
            f"'807932655' or '123.456'; got {value!r}"
        )
    return text


def _filter_values(value: Any, name: str) -> list[str]:
    values = list(value) if isinstance(value, (list, tuple, set)) else [value]
    if not values:
        raise JobsConfigError(f"keboola filter {name!r} got an empty list; leave it out to match every job")
    if any(isinstance(item, (list, tuple, set, Mapping)) or item is None for item in values):
        raise JobsConfigError(f"keboola filter {name!r} takes a value or a list of values, got {value!r}")
    return [_text(item) for item in values]


def _page_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise JobsConfigError(
            f"keboola filter 'limit' (a watcher's page size) must be 1..{MAX_PAGE_SIZE}, got {value!r}"
        )
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
