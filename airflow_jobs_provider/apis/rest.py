"""A jobs API described entirely in the connection's extras, so any other API works with no code.

Example extra (the emulator's Acme Batch API)::

    {"api": "rest",
     "start": "POST /acme/v2/runs", "get": "GET /acme/v2/runs/{job_id}",
     "cancel": "POST /acme/v2/runs/{job_id}/abort", "list": "GET /acme/v2/runs",
     "job_root": "run", "list_root": "runs",
     "id_field": "id", "state_field": "state", "message_field": "error",
     "progress_field": "progress", "url_field": "links.ui",
     "states": {"QUEUED": "PENDING", "RUNNING": "RUNNING", "ABORTING": "RUNNING",
                "SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED", "ABORTED": "CANCELLED"},
     "auth_header": "X-Api-Key", "auth_scheme": "",
     "start_match": {"task": "task"}, "list_created_after": "created_after", "created_field": "created",
     "list_page_size": 100, "list_offset_param": "offset", "list_limit_param": "limit",
     "list_order_field": "updated", "list_since_param": "updated_after"}

``start_match``, ``list_created_after`` and ``created_field`` are optional and let the provider find
the job of an uncertain start, or the running job to join (``TriggerJobOperator(if_running=...)``):
``start_match`` maps a ``list`` query parameter to the dotted path of its value in the start body (a
listed job must carry the same value at that path, or at the path ``job_match`` gives),
``list_created_after`` names the query parameter that takes an ISO 8601 lower bound on creation, and
``created_field`` is the dotted path of a job's creation time, checked on every listed job. A lookup
needs ``list``, ``start_match`` and at least one of ``list_created_after`` or ``created_field``.

The ``list_*`` paging extras describe how the list pages (``PAGING_EXTRAS``); without them an event
watcher reads the list's one answer per poll, as before.

Links: ``url_field`` names the job's web page (the "Job" button), checked as untrusted input and
kept to the hosts of extra ``link_hosts`` when that is given; ``job_api_url`` is the ``get``
endpoint. Lineage: extras ``inputs_field`` / ``outputs_field`` name lists of datasets in the job
answer, each ``{"namespace", "name"}`` or a URI ``scheme://authority/path``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_jobs_provider.apis import rest_story
from airflow_jobs_provider.apis.base import CANCEL_REFUSED, BatchResult, HttpJobsApi, answer
from airflow_jobs_provider.apis.exchange import Exchange, Request, Response
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.lineage import Dataset, JobLineage, dataset_from, unique
from airflow_jobs_provider.apis.links import JobLinks, checked_or_none
from airflow_jobs_provider.apis.paging import (
    DEFAULT_MAX_PAGES,
    ListWindow,
    PageReader,
    merged_filters,
)
from airflow_jobs_provider.apis.rest_batch import BatchRead, feed_enabled
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.story import StoryPage
from airflow_jobs_provider.apis.values import dig, epoch, iso_utc, progress_value, quote_job_id, whole_number
from airflow_jobs_provider.exceptions import JobOutcomeError, JobsApiError, JobsConfigError, JobsError

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
REQUIRED = ("start", "get", "id_field", "state_field", "states")
OPTIONAL_PATHS = (
    "job_root", "list_root", "message_field", "progress_field", "url_field", "created_field", "inputs_field",
    "outputs_field",
)  # fmt: skip
MATCH_EXTRAS = ("start_match", "job_match")
PAGING_EXTRAS = (
    "list_page_size", "list_offset_param", "list_page_param", "list_first_page", "list_limit_param",
    "list_order_field", "list_since_param",
)  # fmt: skip
MAX_PAGE_SIZE = 1000
PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\[\]-]{0,63}")


@dataclass(frozen=True)
class Paging:
    """How a REST list pages, read from the ``list_*`` extras and checked (they are a user's input).

    :param page_size: jobs per page, sent as ``limit_param``.
    :param offset_param: the query parameter of the first job's index (0, page_size, ...); or
    :param page_param: the query parameter of the page number (``first_page``, ``first_page`` + 1, ...).
    :param order_field: dotted path to the time the list is sorted by, newest first; paging stops
        at the first page that reaches past the window's start. Without it, paging stops at a short page.
    :param since_param: a query parameter that takes the window's start as ISO 8601 UTC, if the API has one.
    """

    page_size: int
    limit_param: str
    offset_param: str | None
    page_param: str | None
    first_page: int
    order_field: str | None
    since_param: str | None

    @classmethod
    def from_extras(cls, extras: Mapping[str, Any], conn_id: str) -> Paging | None:
        given = [key for key in PAGING_EXTRAS if extras.get(key) not in (None, "")]
        if not given:
            return None
        where = f"connection {conn_id!r}"
        size = whole_number(extras.get("list_page_size"), 1, MAX_PAGE_SIZE)
        if size is None:
            given_size = extras.get("list_page_size")
            raise JobsConfigError(
                f"{where}: extra 'list_page_size' must be a whole number 1..{MAX_PAGE_SIZE} (the page size the "
                f"list endpoint accepts), got {given_size!r}; the list_* extras describe paging only together"
            )
        names = {key: _param(extras, key, where) for key in PAGING_EXTRAS if key.endswith("_param")}
        if (names["list_offset_param"] is None) == (names["list_page_param"] is None):
            raise JobsConfigError(
                f"{where}: paging needs exactly one of extra 'list_offset_param' (the index of the first job, "
                "e.g. 'offset') or 'list_page_param' (the page number, e.g. 'page')"
            )
        first = extras.get("list_first_page", 1)
        if isinstance(first, bool) or not isinstance(first, int) or first not in (0, 1):
            raise JobsConfigError(f"{where}: extra 'list_first_page' must be 0 or 1, got {first!r}")
        order = extras.get("list_order_field")
        if order is not None and (not isinstance(order, str) or not order.strip()):
            raise JobsConfigError(f"{where}: extra 'list_order_field' must be a dotted path string, got {order!r}")
        limit = names.pop("list_limit_param") or "limit"
        chosen = [limit, *(name for name in names.values() if name)]
        if len(set(chosen)) != len(chosen):
            raise JobsConfigError(f"{where}: the list_*_param extras must name different query parameters")
        return cls(
            page_size=size,
            limit_param=limit,
            offset_param=names["list_offset_param"],
            page_param=names["list_page_param"],
            first_page=first,
            order_field=order or None,
            since_param=names["list_since_param"],
        )

    def params(self, offset: int, since: float | None) -> dict[str, str]:
        params = {self.limit_param: str(self.page_size)}
        if self.offset_param is not None:
            params[self.offset_param] = str(offset)
        else:
            params[str(self.page_param)] = str(self.first_page + offset // self.page_size)
        if self.since_param is not None and since is not None:
            params[self.since_param] = iso_utc(since)
        return params

    @property
    def owned(self) -> tuple[str, ...]:
        return tuple(name for name in (self.limit_param, self.offset_param, self.page_param, self.since_param) if name)


def _param(extras: Mapping[str, Any], key: str, where: str) -> str | None:
    value = extras.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not PARAM_NAME.fullmatch(value):
        raise JobsConfigError(f"{where}: extra {key!r} must be a query parameter name such as 'offset', got {value!r}")
    return value
@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str

    @classmethod
    def parse(cls, text: Any, name: str, conn_id: str) -> Endpoint:
        words = text.split() if isinstance(text, str) else []
        if len(words) != 2 or words[0].upper() not in METHODS or not words[1].startswith("/"):
            raise JobsConfigError(
                f"connection {conn_id!r}: extra {name!r} must read 'METHOD /path', e.g. "
                f"'GET /v1/jobs/{{job_id}}'; got {text!r}"
            )
        return cls(words[0].upper(), words[1])

    def path_for(self, job_id: str | None = None) -> str:
        if "{job_id}" in self.path:
            if job_id is None:
                raise JobsConfigError(f"path {self.path} names {{job_id}} but this call has no job")
            return self.path.replace("{job_id}", quote_job_id(job_id))
        return self.path


class RestApi(HttpJobsApi):
    name = "rest"

    def __init__(self, settings: ApiSettings, status_overrides: Mapping[str, str] | None = None):
        extras = settings.extras
        conn_id = settings.conn_id
        missing = [key for key in REQUIRED if not extras.get(key)]
        if missing:
            raise JobsConfigError(
                f"connection {conn_id!r} (api 'rest') lacks extra {', '.join(missing)}; "
                "see the README's 'Declarative REST API' section for a complete example"
            )
        self.states = _state_table(extras["states"], conn_id)
        super().__init__(settings, status_overrides)
        self.endpoints = {
            name: Endpoint.parse(extras[name], name, conn_id)
            for name in ("start", "get", "cancel", "list")
            if extras.get(name)
        }
        if extras.get("log_endpoint"):  # optional: the job's log entries (apis/rest_story.py)
            self.endpoints["log"] = Endpoint.parse(extras["log_endpoint"], "log_endpoint", conn_id)
            if "{job_id}" not in self.endpoints["log"].path:
                raise JobsConfigError(f"connection {conn_id!r}: extra 'log_endpoint' must name {{job_id}} in its path")
        self.log_fields = rest_story.LogFields.parse(extras, conn_id)
        if "{job_id}" not in self.endpoints["get"].path:
            raise JobsConfigError(f"connection {conn_id!r}: extra 'get' must contain {{job_id}} in its path")
        for key in ("id_field", "state_field", *OPTIONAL_PATHS):
            if key in extras and not isinstance(extras[key], str):
                raise JobsConfigError(f"connection {conn_id!r}: extra {key!r} must be a dotted path string")
        self.fields = {key: extras.get(key) or "" for key in ("id_field", "state_field", *OPTIONAL_PATHS)}
        self.start_match = _path_map(extras.get("start_match"), "start_match", conn_id)
        self.job_match = _path_map(extras.get("job_match"), "job_match", conn_id) or {
            param: path for param, path in self.start_match.items()
        }
        created_after = extras.get("list_created_after")
        if created_after is not None and (not isinstance(created_after, str) or not created_after.strip()):
            raise JobsConfigError(f"connection {conn_id!r}: extra 'list_created_after' must name a query parameter")
        self.list_created_after = created_after or ""
        self.paging = Paging.from_extras(extras, conn_id)
        self.windowed = self.paging is not None
        self.batch_read = BatchRead.from_extras(
            extras, conn_id, lambda text, name: Endpoint.parse(text, name, conn_id),
            lambda key: _param(extras, key, f"connection {conn_id!r}"),
        )  # fmt: skip
        if self.batch_read is not None:
            self.supports_batch_get = settings.batching
            self.batch_size = self.batch_read.size
        self.supports_changed_feed = feed_enabled(extras, conn_id) and settings.batching
        hosts = extras.get("link_hosts")
        if hosts is not None and (not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts)):
            raise JobsConfigError(f"connection {conn_id!r}: extra 'link_hosts' must be a list of host names")
        self.link_hosts = [host.lower() for host in hosts] if hosts is not None else None
        self.auth_header = str(extras.get("auth_header") or "Authorization")
        self.auth_scheme = str(extras.get("auth_scheme", "Bearer") or "")

    def headers(self) -> dict[str, str]:
        if not self.settings.token:
            return {}
        value = f"{self.auth_scheme} {self.settings.token}" if self.auth_scheme else self.settings.token
        return {self.auth_header: value}

    def endpoint(self, operation: str) -> Endpoint:
        try:
            return self.endpoints[operation]
        except KeyError:
            raise JobsConfigError(
                f"connection {self.settings.conn_id!r} (api 'rest') has no {operation!r} endpoint: "
                f"add extra {operation!r}: 'METHOD /path'"
            ) from None

    def request(self, operation: str, job_id: str | None = None, **kwargs: Any) -> Request:
        endpoint = self.endpoint(operation)
        return Request(endpoint.method, endpoint.path_for(job_id), headers=self.headers(), **kwargs)

    def start_request(self, spec: Mapping[str, Any]) -> Request:
        return self.request("start", json=dict(spec), replayable=False)

    def parse_started(self, response: Response) -> Job:
        return self.job_from(self.json_object(response, "start a job"), None)

    def get_request(self, job_id: str) -> Request:
        return self.request("get", job_id)

    def parse_job(self, response: Response, job_id: str) -> Job:
        return self.job_from(self.json_object(response, f"read job {job_id}"), job_id)

    def list_request(self, filters: Mapping[str, Any]) -> Request:
        params = {key: str(value) for key, value in filters.items() if value is not None}
        return self.request("list", params=params)

    def parse_list(self, response: Response) -> list[Job]:
        items = dig(response.body, self.fields["list_root"]) if self.fields["list_root"] else response.body
        if not isinstance(items, list):
            raise JobsApiError(
                f"rest list answer has no array at {self.fields['list_root'] or '(top level)'}: "
                "set extra 'list_root' to the dotted path of the job array"
            )
        return [self.job_from({"_": item}, None, root="_") for item in items]

    def list_window(
        self,
        filters: Mapping[str, Any],
        *,
        since: float | None = None,
        until: float | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
        now: float | None = None,
    ) -> Exchange[ListWindow]:
        """Pages as the ``list_*`` extras describe; a list without them is read in one request."""
        paging = self.paging
        if paging is None:
            return (yield from super().list_window(filters, since=since, until=until, max_pages=max_pages, now=now))
        query = merged_filters(filters, paging.owned, self.name, "the connection's list_* extras page the list")
        reader = PageReader(self.order_time, since, paging.page_size)
        return (yield from self.list_pages(query, lambda offset: paging.params(offset, since), reader, max_pages))

    def get_jobs_request(self, job_ids: Sequence[str]) -> Request:
        read = self.batch_read
        if read is None:
            raise NotImplementedError("this rest connection has no 'batch_get' extra")
        return Request(read.method, read.path, params=read.params(job_ids), headers=self.headers())

    def parse_jobs(self, response: Response, job_ids: Sequence[str]) -> dict[str, BatchResult]:
        """The asked-for jobs of a many-ids answer; an entry that cannot be read fails only its own job."""
        root = self.batch_read.root if self.batch_read is not None else ""
        items = dig(response.body, root) if root else response.body
        if not isinstance(items, list):
            raise JobsApiError(
                f"rest many-ids answer has no array at {root or '(top level)'}: set extra 'batch_root' to the "
                "dotted path of the job array"
            )
        wanted = set(job_ids)
        found: dict[str, BatchResult] = {}
        for item in items:
            job_id = dig(item, self.fields["id_field"]) if isinstance(item, Mapping) else None
            job_id = str(job_id) if isinstance(job_id, (str, int)) and not isinstance(job_id, bool) else None
            if job_id is None or job_id not in wanted or job_id in found:
                continue  # not ours, or unreadable: its job is read on its own
            try:
                found[job_id] = self.job_from({"_": item}, job_id, root="_")
            except (JobsError, JobOutcomeError) as error:
                found[job_id] = error
        return found

    def order_time(self, job: Job) -> float | None:
        if self.paging is None or self.paging.order_field is None:
            return None
        return epoch(dig(job.payload, self.paging.order_field))

    def cancel_request(self, job_id: str) -> Request:
        return self.request("cancel", job_id)

    def cancel_job(self, job_id: str) -> Exchange[Job]:
        response = yield self.cancel_request(job_id)
        if response.status in CANCEL_REFUSED:
            return (yield from self.cancel_refused(response, job_id))
        self.checked(response, "cancel", job_id)
        if isinstance(response.body, Mapping) and dig(response.body, self._path("state_field")) is not None:
            return self.parse_job(response, job_id)
        # Many APIs answer a cancel with 202/204 and no job: read the job back instead of guessing.
        current = yield self.get_request(job_id)
        return self.parse_job(self.checked(current, "read", job_id), job_id)

    def probe(self) -> Exchange[str]:
        if "list" in self.endpoints:
            return (yield from super().probe())
        return f"Connection {self.settings.conn_id!r} is configured (no 'list' endpoint to call)"

    def job_from(self, body: Mapping[str, Any], job_id: str | None, root: str | None = None) -> Job:
        root = self.fields["job_root"] if root is None else root
        document = dig(body, root) if root else body
        if not isinstance(document, Mapping):
            raise JobsApiError(f"rest answer has no job object at {root!r}: check extra 'job_root'")
        found_id = dig(document, self.fields["id_field"])
        if found_id in (None, "") and job_id is None:
            raise JobsApiError(
                f"rest answer has no job id at {self.fields['id_field']!r}: check extra 'id_field' "
                f"(answer: {str(document)[:200]})"
            )
        the_id = str(found_id) if found_id not in (None, "") else str(job_id)
        raw = dig(document, self.fields["state_field"])
        if raw is None or isinstance(raw, (dict, list)):
            raise JobsApiError(
                f"rest answer for job {the_id} has no state at {self.fields['state_field']!r}: "
                "check extra 'state_field'"
            )
        message = dig(document, self.fields["message_field"]) if self.fields["message_field"] else None
        url = dig(document, self.fields["url_field"]) if self.fields["url_field"] else None
        progress = dig(document, self.fields["progress_field"]) if self.fields["progress_field"] else None
        return Job(
            job_id=the_id,
            status=self.resolve(raw, the_id),
            raw_status=str(raw),
            url=str(url) if url else None,
            progress=progress_value(progress),
            message=str(message) if message else None,
            payload=dict(document),
        )

    @property
    def story_costs_requests(self) -> bool:
        return "log" in self.endpoints  # extra log_endpoint: a request per read

    def story(self, job: Job, cursor: Mapping[str, Any] | None) -> Exchange[StoryPage]:
        return (yield from rest_story.story(self, job, cursor))

    # -- the job of a start, when the connection describes how to find it
    def lookup_problem(self, spec: Mapping[str, Any]) -> str | None:
        missing = [name for name, ok in (
            ("'list'", "list" in self.endpoints),
            ("'start_match'", bool(self.start_match)),
            ("'list_created_after' or 'created_field'", bool(self.list_created_after or self.fields["created_field"])),
        ) if not ok]
        if missing:
            return (
                f"connection {self.settings.conn_id!r} (api 'rest') does not say how to find a job of this start: "
                f"add extra {', '.join(missing)} (see the REST API page of the docs)"
            )
        absent = [path for path in self.start_match.values() if dig(spec, path) in (None, "")]
        if absent:
            return f"rest: the start body has no value at {', '.join(absent)} (extra 'start_match' names it)"
        return None

    def target_filters(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {param: _scalar(dig(spec, path)) for param, path in self.start_match.items()}

    def created_filters(self, since: float) -> dict[str, Any]:
        return {self.list_created_after: iso_utc(since)} if self.list_created_after else {}

    def same_target(self, spec: Mapping[str, Any], job: Job) -> bool:
        for param, spec_path in self.start_match.items():
            job_path = self.job_match.get(param, spec_path)
            if _scalar(dig(job.payload, job_path)) != _scalar(dig(spec, spec_path)):
                return False
        return True

    def created_at(self, job: Job) -> float | None:
        return epoch(dig(job.payload, self.fields["created_field"])) if self.fields["created_field"] else None

    def find_started(self, spec: Mapping[str, Any], since: float) -> Exchange[list[Job]]:
        jobs = yield from super().find_started(spec, since)
        if not self.list_created_after:  # the API cannot filter by time: a job must show a time to count
            jobs = [job for job in jobs if self.created_at(job) is not None]
        return jobs
    def job_links(self, job: Job) -> Exchange[JobLinks]:
        problems: list[str] = []
        page = checked_or_none(job.url, f"rest {self.fields['url_field']!r}", self.link_hosts, problems)
        api = f"{self.settings.base_url}{self.endpoint('get').path_for(job.job_id)}"
        return (yield from answer(JobLinks(page=page, api=api, problems=tuple(problems))))

    def job_lineage(self, job: Job, spec: Mapping[str, Any] | None = None) -> Exchange[JobLineage]:
        return (yield from answer(JobLineage(self._datasets(job, "inputs_field"), self._datasets(job, "outputs_field"),
                                             source="rest answer")))

    def _datasets(self, job: Job, key: str) -> tuple[Dataset, ...]:
        if not self.fields[key]:
            return ()
        found = dig(job.payload, self.fields[key])
        items = found if isinstance(found, list) else [found] if found is not None else []
        return unique([dataset for item in items if (dataset := dataset_from(item)) is not None])

    def _path(self, key: str) -> str:
        root = self.fields["job_root"]
        return f"{root}.{self.fields[key]}" if root else self.fields[key]


def _path_map(value: Any, name: str, conn_id: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(key, str) and key and isinstance(path, str) and path for key, path in value.items()
    ):
        raise JobsConfigError(
            f"connection {conn_id!r}: extra {name!r} must map query parameters to dotted paths, e.g. "
            '{"task": "task"}'
        )
    return dict(value)


def _scalar(value: Any) -> str | None:
    """A matched value as text (a list filter is one string); None for nothing or a structure."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _state_table(states: Any, conn_id: str) -> dict[str, JobStatus]:
    if not isinstance(states, Mapping) or not states:
        raise JobsConfigError(
            f"connection {conn_id!r}: extra 'states' must map each raw state to one of PENDING, RUNNING, "
            "SUCCEEDED, FAILED, CANCELLED"
        )
    table: dict[str, JobStatus] = {}
    for raw, canonical in states.items():
        try:
            table[str(raw)] = JobStatus.parse(canonical)
        except ValueError as exc:
            raise JobsConfigError(f"connection {conn_id!r}: extra states[{raw!r}]: {exc}") from None
    if JobStatus.SUCCEEDED not in table.values():
        raise JobsConfigError(f"connection {conn_id!r}: extra 'states' maps no raw state to SUCCEEDED")
    return table
