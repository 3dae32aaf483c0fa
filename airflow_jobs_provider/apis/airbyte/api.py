"""Airbyte public API v1 jobs: start a sync or reset, watch it, list and cancel jobs.

The connection's host is the API's base URL, as for Airbyte's own SDK and Airflow provider:
``https://api.airbyte.com/v1`` (Cloud) or ``http://HOST:8000/api/public/v1`` (self-managed).
Auth is one of four modes (see ``auth``); with client credentials every exchange first
yields the token request when no fresh access token is cached, and a 401 on a cached token
renews it once and repeats the call. Errors are problem+json (``title``, ``detail``).

A job's ``url`` is its API resource (``{host}/jobs/{jobId}``), which needs a token to open. A job
answer names no workspace, so the "Job" button's page (the connection's timeline in the web app,
``{web app}/workspaces/{workspaceId}/connections/{connectionId}/timeline``) comes from the
connection's record, read once per hook (``GET /connections/{id}``); its source, destination and
streams are the job's lineage too (apis/airbyte/connection.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any

from airflow_jobs_provider.apis import airbyte_story
from airflow_jobs_provider.apis.airbyte import connection as connections
from airflow_jobs_provider.apis.airbyte.auth import AirbyteAuth, TokenCache, parse_token
from airflow_jobs_provider.apis.base import CANCEL_REFUSED, HttpJobsApi, SharedState, created_field
from airflow_jobs_provider.apis.exchange import Exchange, Request, Response
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.lineage import JobLineage
from airflow_jobs_provider.apis.links import JobLinks
from airflow_jobs_provider.apis.paging import (
    DEFAULT_MAX_PAGES,
    ListWindow,
    PageReader,
    merged_filters,
    offset_param,
)
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.story import StoryPage, Summary
from airflow_jobs_provider.apis.values import MAX_ERROR_TEXT, epoch, error_text, iso_utc, iso_utc_up, quote_job_id
from airflow_jobs_provider.exceptions import (
    InvalidJobIdError,
    JobNotFoundError,
    JobsApiError,
    JobsAuthError,
    JobsConfigError,
)

STATES: dict[str, JobStatus] = {
    "pending": JobStatus.PENDING,
    "queued": JobStatus.PENDING,
    "running": JobStatus.RUNNING,
    "incomplete": JobStatus.RUNNING,  # an attempt failed; Airbyte retries it
    "succeeded": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
}

START_FIELDS = ("connectionId", "jobType")
START_JOB_TYPES = ("sync", "reset", "clear")
JOB_TYPES = ("sync", "reset", "refresh", "clear")
LIST_FILTERS = (
    "connectionId", "workspaceIds", "jobType", "status", "limit", "offset", "orderBy",
    "createdAtStart", "createdAtEnd", "updatedAtStart", "updatedAtEnd",
)
DATE_FILTERS = frozenset({"createdAtStart", "createdAtEnd", "updatedAtStart", "updatedAtEnd"})
MAX_LIMIT = 100
WINDOW_OWNED = ("offset", "orderBy", "updatedAtStart", "updatedAtEnd")
"""What a watcher's window read sets itself: latest update first, one update range, offset pages."""
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
ORDER_BY = re.compile(r"(createdAt|updatedAt)\|(ASC|DESC)")
SNAKE_HINTS = {"connection_id": "connectionId", "job_type": "jobType", "workspace_ids": "workspaceIds"}
MIN_REDACTED = 4


class AirbyteApi(HttpJobsApi):
    name = "airbyte"
    states = STATES
    windowed = True
    supports_changed_feed = True  # GET /jobs?updatedAtStart=…&orderBy=updatedAt|DESC, offset pages (list_window)

    def __init__(
        self,
        settings: ApiSettings,
        status_overrides: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(settings, status_overrides)
        self.auth = AirbyteAuth.from_settings(settings)
        self.clock = clock
        self.tokens = TokenCache(clock)
        self._masked: set[str] = set()
        self.config_url = airbyte_story.config_url(settings)  # the Config API, for attempts (opt-in)
        self.log_lines = airbyte_story.log_lines(settings)
        self._connections: dict[str, Mapping[str, Any]] = {}
        """Connection records read for links and lineage, by connection id: one read per hook."""

    def share(self, shared: SharedState) -> None:
        """One access token per set of credentials on the loop: one exchange per renewal, and one
        secret for Airflow's masker, whose pattern is rebuilt on every new secret."""
        key = (self.settings.base_url, self.auth)
        self.tokens = shared("airbyte access token", key, lambda: TokenCache(self.clock))

    # -- operations: each goes through ``authorized`` so the token exchange can come first
    def start_job(self, spec: Mapping[str, Any]) -> Exchange[Job]:
        response = yield from self.authorized(self.start_request(spec))
        return self.parse_started(self.checked(response, "start a job"))

    def get_job(self, job_id: str) -> Exchange[Job]:
        response = yield from self.authorized(self.get_request(job_id))
        return self.parse_job(self.checked(response, "read", str(job_id)), str(job_id))

    def list_jobs(self, filters: Mapping[str, Any]) -> Exchange[list[Job]]:
        response = yield from self.authorized(self.list_request(filters))
        return self.parse_list(self.checked(response, "list jobs"))

    def list_window(
        self,
        filters: Mapping[str, Any],
        *,
        since: float | None = None,
        until: float | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
        now: float | None = None,
    ) -> Exchange[ListWindow]:
        """Jobs last updated within ``[since, until]`` (a finished job's last update is its end):
        ``orderBy=updatedAt|DESC`` with ``updatedAtStart``/``updatedAtEnd``, ``offset`` pages of
        ``limit`` (100, the API's maximum, unless the filters ask for fewer)."""
        query = merged_filters(filters, WINDOW_OWNED, self.name, "it pages by last update")
        query.update(orderBy="updatedAt|DESC", limit=query.get("limit", MAX_LIMIT))
        size = _count("limit", query["limit"])
        if since is not None:
            query["updatedAtStart"] = iso_utc(since)
        if until is not None:
            query["updatedAtEnd"] = iso_utc_up(until)
        reader = PageReader(self.order_time, since, size)
        return (yield from self.list_pages(query, offset_param, reader, max_pages, send=self.authorized))

    def order_time(self, job: Job) -> float | None:
        return epoch(job.payload.get("lastUpdatedAt"))

    def cancel_job(self, job_id: str) -> Exchange[Job]:
        response = yield from self.authorized(self.cancel_request(job_id))
        if response.status in CANCEL_REFUSED:
            return (yield from self.cancel_refused(response, str(job_id)))
        return self.parse_cancelled(self.checked(response, "cancel", str(job_id)), str(job_id))

    def probe(self) -> Exchange[str]:
        response = yield from self.authorized(self.list_request({"limit": 1}))
        self.checked(response, "list jobs")
        return f"Connected to the airbyte API at {self.settings.base_url} (auth: {self.auth.mode})"

    # -- the job's story: attempts from the Config API when the connection opts in (apis/airbyte_story.py)
    @property
    def story_costs_requests(self) -> bool:
        return self.config_url is not None  # the Config API's attempts: a request per read

    def story(self, job: Job, cursor: Mapping[str, Any] | None) -> Exchange[StoryPage]:
        return (yield from airbyte_story.story(self, job, cursor))

    def summary(self, job: Job) -> Summary:
        return airbyte_story.summary(job)

    def secrets(self) -> tuple[str | None, ...]:
        return (self.settings.token, self.auth.secret, *self._masked)

    # -- links and lineage: from the connection's record, read once
    def connection_record(self, connection_id: str) -> Exchange[Mapping[str, Any]]:
        """``GET /connections/{id}`` (workspace, source, destination, streams), cached on this adapter."""
        if connection_id not in self._connections:
            request = Request("GET", f"/connections/{_uuid(connection_id, 'connectionId')}")
            response = yield from self.authorized(request)
            body = self.json_object(self.checked(response, f"read connection {connection_id}"), "read a connection")
            self._connections[connection_id] = body
        return self._connections[connection_id]

    def job_links(self, job: Job) -> Exchange[JobLinks]:
        links = JobLinks(api=self.job_url(job.job_id))
        web = connections.web_app_url(self.settings)
        connection_id = job.payload.get("connectionId")
        if web is None or not isinstance(connection_id, str):
            return links
        record = yield from self.connection_record(connection_id)
        page, problem = connections.timeline_url(web, record, connection_id)
        return JobLinks(page=page, api=links.api, problems=(problem,) if problem else ())

    def job_lineage(self, job: Job, spec: Mapping[str, Any] | None = None) -> Exchange[JobLineage]:
        connection_id = job.payload.get("connectionId") or (spec or {}).get("connectionId")
        if not isinstance(connection_id, str):
            return JobLineage()
        record = yield from self.connection_record(connection_id)
        return connections.lineage(self.settings.base_url, record, job.payload)

    # -- auth
    def authorized(self, request: Request) -> Exchange[Response]:
        """Send ``request`` with credentials; with client credentials, fetch or renew the token first."""
        if self.auth.mode != "client_credentials":
            if self.auth.mode == "basic":
                self._mask(self.auth.basic_credentials())
            response = yield _with_headers(request, self.auth.static_headers())
            return response
        token = self.tokens.current()
        fetched = token is None
        if token is None:
            token = yield from self._new_token()
        response = yield _with_headers(request, {"Authorization": f"Bearer {token}"})
        if response.status == 401 and not fetched:
            # The cached token was revoked or expired early: renew it once and repeat the call.
            # A 401 means the server did not act on the request, so repeating a start is safe.
            self.tokens.forget()
            token = yield from self._new_token()
            response = yield _with_headers(request, {"Authorization": f"Bearer {token}"})
        return response

    def _new_token(self) -> Exchange[str]:
        request = self.auth.token_request()
        response = yield request
        token_url = f"{self.settings.base_url}{request.path}"
        if not response.ok:
            self._refuse_token(response, token_url)
        token, lifetime = parse_token(response, token_url)
        if (current := self.tokens.current()) is not None:
            return current  # another trigger renewed the shared token meanwhile: use it, drop this one unused
        self._mask(token)
        self.tokens.keep(token, lifetime)
        return token

    def _refuse_token(self, response: Response, token_url: str) -> None:
        text = self.redact(problem_text(response.body))
        if response.status in (400, 401, 403):
            raise JobsAuthError(
                f"airbyte refused the client credentials at {token_url} (HTTP {response.status}: {text}): "
                f"{self.auth.advice()}",
                status_code=response.status,
            )
        if response.status == 404:
            raise JobsApiError(
                f"airbyte has no token endpoint at {token_url} (HTTP 404): the host of connection "
                f"{self.settings.conn_id!r} must be the API's base URL (https://api.airbyte.com/v1, or "
                "http://HOST:8000/api/public/v1 when self-managed); set extra 'token_path' if tokens are "
                "issued elsewhere below it",
                status_code=404,
            )
        self.checked(response, "exchange the client credentials for an access token")

    def _mask(self, secret: str) -> None:
        if secret not in self._masked and self.on_secret is not None:
            self.on_secret(secret)
        self._masked.add(secret)

    def redact(self, text: str) -> str:
        """``text`` with every credential this adapter holds replaced by ``***``."""
        for secret in (self.auth.secret, *self._masked):
            if secret and len(secret) >= MIN_REDACTED:
                text = text.replace(secret, "***")
        return text

    # -- builders and parsers
    def start_request(self, spec: Mapping[str, Any]) -> Request:
        if not isinstance(spec, Mapping):
            raise JobsConfigError(f"airbyte job spec must be a dict, got {spec!r}")
        unknown = sorted(set(spec) - set(START_FIELDS))
        if unknown:
            hints = "".join(f" ({key} is spelled {SNAKE_HINTS[key]})" for key in unknown if key in SNAKE_HINTS)
            raise JobsConfigError(
                f"airbyte job spec has unknown field(s) {', '.join(unknown)}{hints}; it takes Airbyte's own "
                "names: {'connectionId': '<connection UUID>', 'jobType': 'sync'}"
            )
        connection_id = _uuid(spec.get("connectionId"), "job spec 'connectionId'")
        job_type = spec.get("jobType")
        if job_type == "refresh":
            raise JobsConfigError("airbyte's public API does not start refreshes; use jobType 'sync' or 'reset'")
        if job_type not in START_JOB_TYPES:
            raise JobsConfigError(
                f"airbyte job spec 'jobType' must be one of {', '.join(START_JOB_TYPES)}, got {job_type!r}. "
                "Example: {'connectionId': '<connection UUID>', 'jobType': 'sync'}"
            )
        body = {"connectionId": connection_id, "jobType": job_type}
        return Request("POST", "/jobs", json=body, replayable=False)

    def parse_started(self, response: Response) -> Job:
        body = self.json_object(response, "start a job")
        job_id = _job_id_of(body)
        if job_id is None:
            raise JobsApiError(f"airbyte accepted the job but its answer carries no integer jobId: {str(body)[:200]}")
        return self._job(body, job_id)

    def get_request(self, job_id: str) -> Request:
        return Request("GET", f"/jobs/{checked_job_id(job_id)}")

    def parse_job(self, response: Response, job_id: str) -> Job:
        body = self.json_object(response, f"read job {job_id}")
        return self._job(body, _job_id_of(body) or job_id)

    def list_request(self, filters: Mapping[str, Any]) -> Request:
        unknown = sorted(set(filters) - set(LIST_FILTERS))
        if unknown:
            raise JobsConfigError(
                f"airbyte cannot filter jobs by {', '.join(unknown)}; "
                f"use Airbyte's own names: {', '.join(LIST_FILTERS)}"
            )
        params = {key: _filter_value(key, value) for key, value in filters.items() if value is not None}
        return Request("GET", "/jobs", params=params)

    def parse_list(self, response: Response) -> list[Job]:
        """One page of jobs (``limit``/``offset`` choose it; Airbyte's default page holds 20)."""
        data = self.json_object(response, "list jobs").get("data")
        if not isinstance(data, list) or not all(isinstance(item, Mapping) for item in data):
            raise JobsApiError("airbyte's job list has no 'data' array of job objects")
        jobs = []
        for item in data:
            job_id = _job_id_of(item)
            if job_id is None:
                raise JobsApiError(f"airbyte's job list holds an entry without an integer jobId: {str(item)[:200]}")
            jobs.append(self._job(item, job_id))
        return jobs

    def cancel_request(self, job_id: str) -> Request:
        return Request("DELETE", f"/jobs/{checked_job_id(job_id)}")

    def job_url(self, job_id: str) -> str:
        return f"{self.settings.base_url}/jobs/{quote_job_id(job_id)}"

    # -- the job of a start: same connection and job type, created since. Airbyte runs one job per
    # connection at a time (a second start is a 409), so a running job of the connection blocks a start.
    def target_filters(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"connectionId": spec["connectionId"], "orderBy": "createdAt|DESC", "limit": MAX_LIMIT}

    def created_filters(self, since: float) -> dict[str, Any]:
        return {"createdAtStart": iso_utc(since)}

    def find_started(self, spec: Mapping[str, Any], since: float) -> Exchange[list[Job]]:
        jobs = yield from super().find_started(spec, since)
        return [job for job in jobs if job.payload.get("jobType") in _listed_types(spec["jobType"])]

    def same_target(self, spec: Mapping[str, Any], job: Job) -> bool:
        return job.payload.get("connectionId") == spec["connectionId"]

    def joinable(self, spec: Mapping[str, Any], job: Job) -> bool:
        return super().joinable(spec, job) and job.payload.get("jobType") in _listed_types(spec["jobType"])

    def created_at(self, job: Job) -> float | None:
        return created_field(job, "createdAt", "startTime")  # JobResponse's startTime is when the job was created

    def is_start_conflict(self, error: Exception) -> bool:
        return isinstance(error, JobsApiError) and error.http_status == 409

    def _job(self, body: Mapping[str, Any], job_id: str) -> Job:
        raw = body.get("status")
        if not isinstance(raw, str):
            raise self.missing_field(job_id, body, "status")
        # bytesSynced, rowsSynced, duration, startTime, lastUpdatedAt, jobType, connectionId
        return Job(job_id, self.resolve(raw, job_id), raw, url=self.job_url(job_id), payload=dict(body))

    # -- errors
    def checked(self, response: Response, action: str, job_id: str | None = None) -> Response:
        """Errors in problem+json terms ('title: detail'), with the way out for Airbyte's cases."""
        if response.ok:
            return response
        text = self.redact(problem_text(response.body))
        title = response.body.get("title") if isinstance(response.body, Mapping) else None
        what = f"{action} job {job_id}" if job_id is not None else action
        where, status = self.settings.base_url, response.status
        if status in (401, 403):
            raise JobsAuthError(
                f"airbyte refused to {what} at {where} (HTTP {status}: {text}; auth {self.auth.mode}): "
                f"{self.auth.advice()}",
                status_code=status,
            )
        if job_id is not None and (status == 404 or title == "resource-not-found"):
            raise JobNotFoundError(
                f"airbyte has no job {job_id} at {where} (HTTP {status}: {text}): check the job id and the "
                f"host of connection {self.settings.conn_id!r}",
                status_code=status,
            )
        if status == 409 and action == "start a job":
            raise JobsApiError(
                f"airbyte would not start the job at {where} (HTTP 409: {text}): a sync or reset of this "
                "connection is probably running already; wait for it, or find it with "
                "hook.list_jobs(connectionId=..., status='running')",
                status_code=409,
            )
        if status == 409 and action == "cancel":
            raise JobsApiError(
                f"airbyte will not cancel job {job_id} (HTTP 409: {text}): it has most likely ended already",
                status_code=409,
            )
        return super().checked(replace(response, body={"message": text}), action, job_id)


def _listed_types(job_type: str) -> frozenset[str]:
    """The jobTypes a started job may be listed with: 'clear' runs the reset service (job-apis.md §3.3)."""
    return frozenset({"clear", "reset"}) if job_type == "clear" else frozenset({job_type})


def problem_text(body: Any) -> str:
    """'title: detail' from a problem+json body (RFC 9457), else the API's error text."""
    if isinstance(body, Mapping) and isinstance(body.get("title"), str):
        title, detail = body["title"], body.get("detail")
        text = f"{title}: {detail}" if isinstance(detail, str) and detail and detail != title else title
        return text[:MAX_ERROR_TEXT]
    return error_text(body)


def checked_job_id(job_id: object) -> str:
    """An Airbyte job id (an int64, given as int or digits) as one path segment."""
    if isinstance(job_id, int) and not isinstance(job_id, bool):
        job_id = str(job_id)
    quoted = quote_job_id(job_id)
    if not quoted.isdigit():
        raise InvalidJobIdError(
            f"airbyte job ids are whole numbers (the jobId the start call returned), got {str(job_id)[:80]!r}: "
            "check what the template renders, e.g. \"{{ ti.xcom_pull(task_ids='start', key='job_id') }}\""
        )
    return quoted


def _job_id_of(body: Mapping[str, Any]) -> str | None:
    value = body.get("jobId")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.isdigit():
        return value
    return None


def _with_headers(request: Request, headers: Mapping[str, str]) -> Request:
    """``request`` with credentials added (built directly: ``dataclasses.replace`` costs more, on every poll)."""
    if not headers:
        return request
    merged = {**request.headers, **headers} if request.headers else dict(headers)
    return Request(request.method, request.path, request.params, request.json, merged, request.replayable, request.host)


def _uuid(value: Any, what: str) -> str:
    if not isinstance(value, str) or not UUID.fullmatch(value):
        raise JobsConfigError(
            f"airbyte {what} must be a UUID such as 'e735894a-e773-4938-969f-45f53957b75b' (the id in the "
            f"connection's URL in the Airbyte UI), got {value!r}"
        )
    return value


def _filter_value(key: str, value: Any) -> str | list[str]:
    """One list filter, checked and written as Airbyte reads it in the query string."""
    if key == "workspaceIds":
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, (list, tuple)):
            raise JobsConfigError(f"airbyte filter workspaceIds takes a UUID or a list of them, got {value!r}")
        return [_uuid(item, "filter workspaceIds") for item in values]
    if isinstance(value, (list, tuple, set, dict)):
        raise JobsConfigError(f"airbyte filter {key} takes one value, not {type(value).__name__}")
    if key == "connectionId":
        return _uuid(value, "filter connectionId")
    if key == "jobType" and value not in JOB_TYPES:
        raise JobsConfigError(f"airbyte filter jobType must be one of {', '.join(JOB_TYPES)}, got {value!r}")
    if key == "status" and value not in STATES:
        raise JobsConfigError(f"airbyte filter status must be one of {', '.join(STATES)}, got {value!r}")
    if key in ("limit", "offset"):
        return str(_count(key, value))
    if key == "orderBy" and not (isinstance(value, str) and ORDER_BY.fullmatch(value)):
        raise JobsConfigError(f"airbyte filter orderBy reads 'createdAt|DESC' (or updatedAt, ASC), got {value!r}")
    if key in DATE_FILTERS:
        return _moment(key, value)
    return str(value)


def _count(key: str, value: Any) -> int:
    low, high = (1, MAX_LIMIT) if key == "limit" else (0, None)
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise JobsConfigError(f"airbyte filter {key} must be a whole number {bounds}, got {value!r}")
    return value


def _moment(key: str, value: Any) -> str:
    """A datetime as ISO 8601 (naive means UTC); strings and epoch milliseconds pass as given."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise JobsConfigError(f"airbyte filter {key} takes a datetime or an ISO 8601 string, got {value!r}")
