"""The sans-I/O core: an API turns operations into Requests and Responses into Jobs.

Every operation is a generator that yields the Requests it needs and receives each Response,
so one piece of code serves the sync hook (requests), the async hook (aiohttp) and the
emulator's contract tests. A transport only drives the generator (see ``apis.drive``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar
from urllib.parse import quote, urlencode

from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.exceptions import (
    InvalidJobIdError,
    JobNotFoundError,
    JobOutcomeError,
    JobsApiError,
    JobsAuthError,
    JobsConfigError,
    JobsError,
    UnknownJobStateError,
)
from airflow_jobs_provider.tasks.options import status_overrides as checked_overrides

T = TypeVar("T")
MAX_JOB_ID_LENGTH = 512
MAX_ERROR_TEXT = 500
CANCEL_REFUSED = frozenset({400, 409})
"""How APIs refuse a cancel (Tinybird 400, Airbyte and others 409): read the job back before believing it."""


@dataclass(frozen=True)
class Request:
    """What to send; ``path`` is already URL-encoded and relative to the connection's base URL.

    ``replayable`` is False for requests that start a job: those may only be retried when the
    server certainly did not receive them, or a retry could start a second job.
    """

    method: str
    path: str
    params: Mapping[str, str | list[str]] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    replayable: bool = True

    def url(self, base_url: str) -> str:
        """Full, already-encoded URL: transports must send it as is (no re-quoting, no dot-segment folding)."""
        query = urlencode(self.params, doseq=True, quote_via=quote) if self.params else ""
        return f"{base_url}{self.path}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Response:
    """What came back, decoded: ``body`` is parsed JSON, or the text when it is not JSON."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""

    @classmethod
    def decode(cls, status: int, raw: bytes, headers: Mapping[str, str], url: str = "") -> Response:
        text = raw.decode("utf-8", errors="replace")
        try:
            body: Any = json.loads(text) if text.strip() else None
        except ValueError:
            body = text
        return cls(status=status, body=body, headers=dict(headers), url=url)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


Exchange = Generator[Request, Response, T]
BatchResult: TypeAlias = Job | JobsError | JobOutcomeError
"""One job's part of a batch answer: the job, or the error reading it (e.g. an unknown state)."""


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the case of its name (HTTP names are case-insensitive)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def quote_job_id(job_id: object) -> str:
    """Check a job id and encode it as one path segment; it can never reach another endpoint."""
    return quote_segment(job_id, "job id", InvalidJobIdError)


def quote_segment(value: object, what: str, error: type[Exception] = JobsConfigError) -> str:
    """Check a value that fills one path segment (a job id, a pipe name) and percent-encode it."""
    if not isinstance(value, str):
        raise error(
            f"{what} must be a string, got {type(value).__name__} {value!r}: pass the id the start call "
            "returned, e.g. \"{{ ti.xcom_pull(task_ids='start', key='job_id') }}\""
        )
    if not value.strip():
        raise error(f"{what} is empty: the template rendered to nothing; check the XCom or dag_run.conf key it reads")
    if value != value.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise error(f"{what} {value[:80]!r} has surrounding whitespace or control characters: strip it before use")
    if len(value) > MAX_JOB_ID_LENGTH:
        raise error(
            f"{what} is {len(value)} characters long (limit {MAX_JOB_ID_LENGTH}): "
            "it is not an id; check what the template renders"
        )
    if set(value) == {"."}:
        raise error(f"{what} {value!r} is a path step, not a name: pass the id the start call returned")
    return quote(value, safe="")


def dig(document: Any, dotted_path: str) -> Any:
    """Follow 'a.b.0.c' through dicts and lists; None when any step is missing."""
    current = document
    for step in [part for part in dotted_path.split(".") if part]:
        if isinstance(current, Mapping):
            current = current.get(step)
        elif isinstance(current, list) and step.lstrip("-").isdigit() and -len(current) <= int(step) < len(current):
            current = current[int(step)]
        else:
            return None
    return current


def error_text(body: Any) -> str:
    """The API's own error message, whatever its error shape, kept short."""
    if isinstance(body, Mapping):
        for key in ("error", "message", "detail", "title", "errors"):
            value = body.get(key)
            if value:
                text = value if isinstance(value, str) else json.dumps(value)
                return text[:MAX_ERROR_TEXT]
        return json.dumps(body)[:MAX_ERROR_TEXT]
    if isinstance(body, str):
        return " ".join(body.split())[:MAX_ERROR_TEXT] or "(empty body)"
    return "(empty body)" if body is None else str(body)[:MAX_ERROR_TEXT]


class StateMap:
    """One literal raw→canonical table per API, plus the task's own overrides."""

    def __init__(self, api_name: str, table: Mapping[str, JobStatus], overrides: Mapping[str, str] | None = None):
        self.api_name = api_name
        extra = {raw: JobStatus(canonical) for raw, canonical in checked_overrides(overrides).items()}
        # Without overrides the API's own (never mutated) table is shared: one copy, not one per trigger.
        self.table: Mapping[str, JobStatus] = {**table, **extra} if extra else table

    def resolve(self, raw_status: Any, job_id: str) -> JobStatus:
        raw = "" if raw_status is None else str(raw_status)
        try:
            return self.table[raw]
        except KeyError:
            known = ", ".join(sorted(self.table))
            raise UnknownJobStateError(
                f"job {job_id}: {self.api_name} reports state {raw!r}, which this task does not know "
                f"(known: {known}). If it is a real state, map it with status_overrides={{{raw!r}: 'RUNNING'}} "
                "(or SUCCEEDED, FAILED, CANCELLED, PENDING)."
            ) from None


class JobsApi:
    """Base for one API's adapter: request builders, response parsers and the operations."""

    name = "base"
    protocol = "http"
    """Which transport the hook pairs with this API: ``http``, or ``faktory`` (TCP line protocol)."""
    states: Mapping[str, JobStatus] = {}
    cancelling_states: frozenset[str] = frozenset()
    """Raw states that mean "a cancel is already under way" (a repeated cancel is then refused)."""
    on_secret: Callable[[str], None] | None = None
    """Set by the hook to Airflow's secrets masker: gets each secret an API obtains at run time (access tokens)."""
    supports_batch_get = False
    """True when one request can read many jobs by id (``get_jobs``): the triggers of one process then
    share their polls (triggers/batch_poller.py). Such an API defines ``get_jobs_request``/``parse_jobs``."""
    batch_size = 100
    """At most this many ids per ``get_jobs`` request."""

    def __init__(self, settings: ApiSettings, status_overrides: Mapping[str, str] | None = None):
        self.settings = settings
        self.state_map = StateMap(self.name, self.states, status_overrides)

    # -- operations: override the builders/parsers, or the whole exchange when it takes several calls
    def start_job(self, spec: Mapping[str, Any]) -> Exchange[Job]:
        response = yield self.start_request(spec)
        return self.parse_started(self.checked(response, "start a job"))

    def get_job(self, job_id: str) -> Exchange[Job]:
        response = yield self.get_request(job_id)
        return self.parse_job(self.checked(response, "read", job_id), job_id)

    def list_jobs(self, filters: Mapping[str, Any]) -> Exchange[list[Job]]:
        response = yield self.list_request(filters)
        return self.parse_list(self.checked(response, "list jobs"))

    def get_jobs(self, job_ids: Sequence[str]) -> Exchange[dict[str, BatchResult]]:
        """Read several jobs in one request (``supports_batch_get`` APIs only).

        An error of the whole request raises; an error that belongs to one job (a state it cannot
        read) is that job's value. A job the answer leaves out is absent: read it on its own.
        """
        response = yield self.get_jobs_request(job_ids)
        return self.parse_jobs(self.checked(response, f"read {len(job_ids)} jobs"), job_ids)

    def cancel_job(self, job_id: str) -> Exchange[Job]:
        response = yield self.cancel_request(job_id)
        if response.status in CANCEL_REFUSED:
            return (yield from self.cancel_refused(response, job_id))
        return self.parse_cancelled(self.checked(response, "cancel", job_id), job_id)

    def cancel_refused(self, refusal: Response, job_id: str) -> Exchange[Job]:
        """A refused cancel may be the retry of one that worked but whose answer was lost (a reset,
        a 502 after the API acted): when the job is already cancelled or cancelling, the cancel
        succeeded. Otherwise the API's own refusal is the error (e.g. the job had finished)."""
        try:
            current = yield from self.get_job(job_id)
        except JobsError:
            current = None
        if current is not None and (
            current.status is JobStatus.CANCELLED or current.raw_status in self.cancelling_states
        ):
            return current
        self.checked(refusal, "cancel", job_id)
        raise JobsApiError(f"{self.name} refused to cancel job {job_id} (HTTP {refusal.status})")

    def probe(self) -> Exchange[str]:
        """A cheap authenticated call for the connection test."""
        response = yield self.list_request({})
        self.checked(response, "list jobs")
        return f"Connected to the {self.name} API at {self.settings.base_url}"

    # -- builders and parsers each API provides
    def start_request(self, spec: Mapping[str, Any]) -> Request:
        raise NotImplementedError

    def parse_started(self, response: Response) -> Job:
        raise NotImplementedError

    def get_request(self, job_id: str) -> Request:
        raise NotImplementedError

    def parse_job(self, response: Response, job_id: str) -> Job:
        raise NotImplementedError

    def list_request(self, filters: Mapping[str, Any]) -> Request:
        raise NotImplementedError

    def parse_list(self, response: Response) -> list[Job]:
        raise NotImplementedError

    def cancel_request(self, job_id: str) -> Request:
        raise NotImplementedError

    def get_jobs_request(self, job_ids: Sequence[str]) -> Request:
        raise NotImplementedError(f"{self.name} cannot read jobs in batches")

    def parse_jobs(self, response: Response, job_ids: Sequence[str]) -> dict[str, BatchResult]:
        raise NotImplementedError(f"{self.name} cannot read jobs in batches")

    def parse_cancelled(self, response: Response, job_id: str) -> Job:
        return self.parse_job(response, job_id)

    # -- shared helpers
    def checked(self, response: Response, action: str, job_id: str | None = None) -> Response:
        """Turn a non-2xx answer into the error that says what to do."""
        if response.ok:
            return response
        what = f"{action} job {job_id}" if job_id is not None else action
        where = self.settings.base_url
        detail = error_text(response.body)
        if response.status in (401, 403):
            raise JobsAuthError(
                f"{self.name} refused to {what} at {where} (HTTP {response.status}: {detail}): check the "
                f"token in connection {self.settings.conn_id!r} and its scopes",
                status_code=response.status,
            )
        if 300 <= response.status < 400:
            raise JobsApiError(
                f"{self.name} redirected '{what}' at {where} to {header(response.headers, 'Location') or '?'} "
                f"(HTTP {response.status}); redirects are not followed so the token stays on its host: "
                f"set the host of connection {self.settings.conn_id!r} to the final URL",
                status_code=response.status,
            )
        if response.status == 404 and job_id is not None:
            raise JobNotFoundError(
                f"{self.name} has no job {job_id} at {where} (HTTP 404: {detail}): check the job id and "
                f"the host of connection {self.settings.conn_id!r}",
                status_code=404,
            )
        raise JobsApiError(
            f"{self.name} could not {what} at {where} (HTTP {response.status}: {detail})",
            status_code=response.status,
        )

    def json_object(self, response: Response, action: str) -> Mapping[str, Any]:
        if not isinstance(response.body, Mapping):
            raise JobsApiError(
                f"{self.name} answered '{action}' with a body that is not a JSON object "
                f"({error_text(response.body)[:120]}): is {self.settings.base_url} really a {self.name} API?",
                status_code=response.status,
            )
        return response.body

    def resolve(self, raw_status: Any, job_id: str) -> JobStatus:
        return self.state_map.resolve(raw_status, job_id)

    def missing_field(self, job_id: str, body: Any, name: str) -> JobsApiError:
        """A job answer without its state (or with a state that is not a string)."""
        return JobsApiError(
            f"{self.name}'s answer for job {job_id} has no {name!r} string ({str(body)[:200]}): check that the "
            f"host of connection {self.settings.conn_id!r} ({self.settings.base_url}) is the {self.name} API's "
            "base URL"
        )


def progress_value(value: Any) -> float | None:
    """A percentage from whatever the API sends, or None when it sends nothing usable."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, min(100.0, number))
