"""The sans-I/O core: an API adapter turns operations into messages and answers into Jobs.

``JobsApi`` is what every API offers and declares what it can do (list, cancel, read many jobs
at once); it does not care what travels on the wire. ``HttpJobsApi`` is the base of the HTTP
APIs: its operations yield Requests and receive Responses (apis/exchange.py). Faktory's adapter
stands on ``JobsApi`` with Commands and Replies of its own protocol (apis/faktory/).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Hashable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeAlias, TypeVar

from airflow_jobs_provider.apis.exchange import Conversation, Exchange, ReplyT, Request, Response, SendT, header
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.lineage import JobLineage
from airflow_jobs_provider.apis.links import JobLinks
from airflow_jobs_provider.apis.paging import DEFAULT_MAX_PAGES, ListWindow, PageReader, page_budget, read_pages
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.states import StateMap
from airflow_jobs_provider.apis.story import StoryPage, Summary
from airflow_jobs_provider.apis.values import epoch, error_text
from airflow_jobs_provider.exceptions import (
    JobNotFoundError,
    JobOutcomeError,
    JobsApiError,
    JobsAuthError,
    JobsConfigError,
    JobsError,
)

T = TypeVar("T")
CANCEL_REFUSED = frozenset({400, 409})
"""How APIs refuse a cancel (Tinybird 400, Airbyte and others 409): read the job back before believing it."""
BatchResult: TypeAlias = Job | JobsError | JobOutcomeError
"""One job's part of a batch answer: the job, or the error reading it (e.g. an unknown state)."""


def answer(value: T) -> Generator[Any, Any, T]:
    """A conversation that needs no message: its value at once."""
    return value
    yield  # a generator, so that callers drive it like any other conversation


class SharedState(Protocol):
    """The triggerer's per-event-loop registry (hooks/loop_shared.py), as an adapter sees it."""

    def __call__(self, kind: str, key: Hashable, make: Callable[[], T]) -> T: ...


class JobsApi(Generic[SendT, ReplyT]):
    """One API's operations, whatever its wire; ``SendT``/``ReplyT`` are what its transport carries."""

    name: ClassVar[str] = "base"
    states: Mapping[str, JobStatus] = {}
    cancelling_states: ClassVar[frozenset[str]] = frozenset()
    """Raw states that mean "a cancel is already under way" (a repeated cancel is then refused)."""
    can_list: ClassVar[bool] = True
    """The API lists jobs (event watchers, ``JobsHook.list_jobs``); ``cannot_list`` says why not."""
    cannot_list: ClassVar[str] = ""
    can_cancel: ClassVar[bool] = True
    """The API can stop a job (Faktory cannot)."""
    windowed: bool = False
    """True when ``list_window`` reads a time window over several pages (else it reads the one list)."""
    supports_batch_get: bool = False
    """True when one request can read many jobs by id (``get_jobs``): the triggers of one process then
    share their polls (triggers/batch_poller.py)."""
    batch_size: int = 100
    """At most this many ids per ``get_jobs`` request."""
    batch_min_jobs: int = 1
    """A read of fewer ids than this is done job by job: an id batch that answers for some jobs only
    (Tinybird's, ended jobs only) pays off only when many are read at once."""
    supports_changed_feed: bool = False
    """True when ``changed_since`` lists every job that changed since a time of the API's clock, in pages:
    the shared polls then read that feed instead of every job (triggers/batch_poller.py)."""
    feed_overlap: float = 30.0
    """Seconds each feed read reaches back before the previous one's API time: a change stamped late
    (a commit after its timestamp, a lagging replica, another server's clock) is still seen."""
    on_secret: Callable[[str], None] | None = None
    """Set by the hook to Airflow's secrets masker: gets each secret an API obtains at run time (access tokens)."""

    def __init__(self, settings: ApiSettings, status_overrides: Mapping[str, str] | None = None):
        self.settings = settings
        self.state_map = StateMap(self.name, self.states, status_overrides)
        if not settings.batching:
            self.supports_batch_get = self.supports_changed_feed = False
        if settings.batch_overlap is not None:
            self.feed_overlap = settings.batch_overlap

    # -- operations
    def start_job(self, spec: Mapping[str, Any]) -> Conversation[SendT, ReplyT, Job]:
        raise NotImplementedError

    def get_job(self, job_id: str) -> Conversation[SendT, ReplyT, Job]:
        raise NotImplementedError

    def list_jobs(self, filters: Mapping[str, Any]) -> Conversation[SendT, ReplyT, list[Job]]:
        """The API's own list; an API that has none (``can_list`` False) says so and how to do without."""
        raise JobsConfigError(self.cannot_list or f"the {self.name} API cannot list jobs")

    def list_window(
        self,
        filters: Mapping[str, Any],
        *,
        since: float | None = None,
        until: float | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
        now: float | None = None,
    ) -> Conversation[SendT, ReplyT, ListWindow]:
        """The jobs whose order time (``order_time``) is within ``[since, until]``, newest first, over as
        many pages as that takes and at most ``max_pages`` (apis/paging.py). ``now`` is the caller's clock.

        An API that does not page answers its one list, which counts as the whole window.
        """
        raise JobsConfigError(self.cannot_list or f"the {self.name} API cannot list jobs")

    def order_time(self, job: Job) -> float | None:
        """When the job last moved in the order its list is sorted by (epoch seconds); None if unknown."""
        return None

    def changed_since(self, since: float | None, max_pages: int) -> Conversation[SendT, ReplyT, ListWindow]:
        """Every job whose last change is at or after ``since`` (epoch seconds of the API's own clock), newest
        first (``supports_changed_feed`` APIs only). ``complete`` False means the feed cannot be trusted
        this time (its page cap, a page that repeats); ``server_time`` is the API's clock at the first page.
        ``since`` None reads one page: it tells the API's clock before a poller's first feed."""
        return (yield from self.list_window({}, since=since, max_pages=max_pages))

    def get_jobs(self, job_ids: Sequence[str]) -> Conversation[SendT, ReplyT, dict[str, BatchResult]]:
        """Read several jobs at once (``supports_batch_get`` APIs only).

        An error of the whole read raises; an error that belongs to one job (a state it cannot
        read) is that job's value. A job the answer leaves out is absent: read it on its own.
        """
        raise NotImplementedError(f"{self.name} cannot read jobs in batches")

    def cancel_job(self, job_id: str) -> Conversation[SendT, ReplyT, Job]:
        raise NotImplementedError

    def probe(self) -> Conversation[SendT, ReplyT, str]:
        """A cheap authenticated call for the connection test."""
        raise NotImplementedError

    def story(self, job: Job, cursor: Mapping[str, Any] | None) -> Conversation[SendT, ReplyT, StoryPage]:
        """The job's own story since ``cursor`` (apis/story.py): new lines and the next cursor.

        ``job`` is the observation just read; an API whose job answer says it all yields nothing.
        """
        yield from ()
        return StoryPage((), dict(cursor or {}))

    @property
    def story_costs_requests(self) -> bool:
        """``story`` of a running job sends requests of its own, beyond the poll: such reads are
        paced so that a batched poll stays a batched poll (tasks/story_pace.py). False here: the
        job answer says it all."""
        return False

    def summary(self, job: Job) -> Summary:
        """What the API says of a finished job's duration, queue time, rows and bytes."""
        return Summary()

    def secrets(self) -> tuple[str | None, ...]:
        """What no story line may show: the connection's token, and any secret obtained at run time."""
        return (self.settings.token,)

    def share(self, shared: SharedState) -> None:
        """Take state that adapters of the same credentials share on one event loop (Airbyte's tokens)."""

    # -- finding the job a start created, or one already running (apis/starting.py drives these)
    cannot_find: ClassVar[str] = ""
    """Why this API cannot look for the job of a start (empty when it can)."""

    def pin_start(self, spec: Mapping[str, Any], now: float) -> dict[str, Any]:
        """The spec with everything the client chooses fixed, so a lookup and a resend mean the same job
        (Faktory: the jid). Most APIs choose nothing: the spec as it is."""
        return dict(spec)

    def lookup_problem(self, spec: Mapping[str, Any]) -> str | None:
        """Why the job of this start cannot be looked for (None when it can)."""
        return self.cannot_find or None

    def find_started(self, spec: Mapping[str, Any], since: float) -> Conversation[SendT, ReplyT, list[Job]]:
        """The jobs this start may have created: same target, created at ``since`` or later (epoch seconds,
        already widened by the tolerated clock skew). Every candidate is checked against the spec here, not
        only by the API's filters: an answer is untrusted."""
        raise JobsConfigError(self.lookup_problem(spec) or f"the {self.name} API cannot look for started jobs")

    def find_running(self, spec: Mapping[str, Any]) -> Conversation[SendT, ReplyT, list[Job]]:
        """The jobs of the same target (pipe, configuration, connection) that have not ended, newest first."""
        raise JobsConfigError(self.lookup_problem(spec) or f"the {self.name} API cannot look for running jobs")

    def joinable(self, spec: Mapping[str, Any], job: Job) -> bool:
        """Whether watching ``job`` can stand for starting ``spec`` (not a job being cancelled)."""
        return job.raw_status not in self.cancelling_states

    def is_start_conflict(self, error: Exception) -> bool:
        """True when a start was refused because a job of the same target is running (Airbyte's 409)."""
        return False
    def job_links(self, job: Job) -> Conversation[SendT, ReplyT, JobLinks]:
        """The job's page in the vendor's UI and its API resource (apis/links.py checks both).

        Called once a job is started or has ended, never on the poll path; an adapter that needs
        a record to build the page (Airbyte's connection) reads it here. None by default: no page.
        """
        return (yield from answer(JobLinks()))

    def job_lineage(self, job: Job, spec: Mapping[str, Any] | None = None) -> Conversation[SendT, ReplyT, JobLineage]:
        """What the job read and wrote (``spec``: the start call's body, when this task started it)."""
        return (yield from answer(JobLineage()))

    # -- shared helpers
    def resolve(self, raw_status: Any, job_id: str) -> JobStatus:
        return self.state_map.resolve(raw_status, job_id)

    def missing_field(self, job_id: str, body: Any, name: str) -> JobsApiError:
        """A job answer without its state (or with a state that is not a string)."""
        return JobsApiError(
            f"{self.name}'s answer for job {job_id} has no {name!r} string ({str(body)[:200]}): check that the "
            f"host of connection {self.settings.conn_id!r} ({self.settings.base_url}) is the {self.name} API's "
            "base URL"
        )


def newest_first(api: HttpJobsApi, jobs: list[Job]) -> list[Job]:
    """Jobs by creation time, newest first; those without a readable time keep their list order, last."""
    timed = [(api.created_at(job), index, job) for index, job in enumerate(jobs)]
    timed.sort(key=lambda item: (item[0] is None, -(item[0] or 0.0), item[1]))
    return [job for _, _, job in timed]


def _created_before(created: float | None, since: float) -> bool:
    return created is not None and created < since


def created_field(job: Job, *names: str) -> float | None:
    """The first of the payload fields ``names`` that reads as a time."""
    for name in names:
        if (moment := epoch(job.payload.get(name))) is not None:
            return moment
    return None


class HttpJobsApi(JobsApi[Request, Response]):
    """Base of the HTTP APIs: request builders, response parsers and the operations built from them."""

    def start_job(self, spec: Mapping[str, Any]) -> Exchange[Job]:
        response = yield self.start_request(spec)
        return self.parse_started(self.checked(response, "start a job"))

    def get_job(self, job_id: str) -> Exchange[Job]:
        response = yield self.get_request(job_id)
        return self.parse_job(self.checked(response, "read", job_id), job_id)

    def list_jobs(self, filters: Mapping[str, Any]) -> Exchange[list[Job]]:
        response = yield self.list_request(filters)
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
        """One list request: an API without paging shows what it shows, and that is the whole window."""
        jobs = yield from self.list_jobs(filters)
        reader = PageReader(self.order_time, since, page_size=len(jobs) + 1)
        reader.add(jobs)
        return reader.window(complete=True)

    def lookup_problem(self, spec: Mapping[str, Any]) -> str | None:
        """The spec's own errors first (a start that could not be sent has no job to look for)."""
        self.start_request(spec)
        return super().lookup_problem(spec)

    def list_pages(
        self,
        query: Mapping[str, Any],
        page_params: Callable[[int], Mapping[str, Any]],
        reader: PageReader,
        max_pages: int,
        send: Callable[[Request], Exchange[Response]] | None = None,
    ) -> Exchange[ListWindow]:
        """The list endpoint read page by page (``page_params(offset)`` picks a page) until ``reader`` stops."""

        def page(offset: int) -> Request:
            return self.list_request({**query, **page_params(offset)})

        def parse(response: Response) -> list[Job]:
            return self.parse_list(self.checked(response, "list jobs"))

        return (yield from read_pages(page, parse, reader, page_budget(max_pages), send=send))

    def get_jobs(self, job_ids: Sequence[str]) -> Exchange[dict[str, BatchResult]]:
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
        response = yield self.list_request({})
        self.checked(response, "list jobs")
        return f"Connected to the {self.name} API at {self.settings.base_url}"

    # -- lookups built from the API's own list filters
    def find_started(self, spec: Mapping[str, Any], since: float) -> Exchange[list[Job]]:
        if (problem := self.lookup_problem(spec)) is not None:
            raise JobsConfigError(problem)
        jobs = yield from self.list_jobs({**self.target_filters(spec), **self.created_filters(since)})
        return newest_first(self, [
            job for job in jobs
            if self.same_target(spec, job) and not _created_before(self.created_at(job), since)
        ])

    def find_running(self, spec: Mapping[str, Any]) -> Exchange[list[Job]]:
        if (problem := self.lookup_problem(spec)) is not None:
            raise JobsConfigError(problem)
        jobs = yield from self.list_jobs({**self.target_filters(spec), **self.running_filters()})
        return newest_first(self, [job for job in jobs if not job.status.is_terminal and self.same_target(spec, job)])

    def target_filters(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """List filters that select the jobs of the same target as ``spec``."""
        raise NotImplementedError

    def created_filters(self, since: float) -> dict[str, Any]:
        """List filters for jobs created at ``since`` or later."""
        raise NotImplementedError

    def running_filters(self) -> dict[str, Any]:
        """List filters that narrow a list to jobs that have not ended (none: checked on each job)."""
        return {}

    def same_target(self, spec: Mapping[str, Any], job: Job) -> bool:
        """Whether a listed job belongs to the target of ``spec`` (the filters are not trusted alone)."""
        return True

    def created_at(self, job: Job) -> float | None:
        """When the API says the job was created (epoch seconds), if its answer says so."""
        return None

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

    # -- answer checks
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

    def json_array(self, value: Any, problem: str) -> list[Any]:
        """A list answer's array; ``problem`` says what is wrong when it is not one."""
        if not isinstance(value, list):
            raise JobsApiError(f"{self.name}'s {problem}")
        return value

    def job_objects(self, value: Any, problem: str) -> list[Mapping[str, Any]]:
        """A list answer's array of job objects (an entry that is not an object is a wrong host or API)."""
        items = self.json_array(value, problem)
        if not all(isinstance(item, Mapping) for item in items):
            raise JobsApiError(f"{self.name}'s job list holds entries that are not job objects")
        return items
