"""Reading a job list back to a point in time, page by page: what an event watcher needs to lose nothing.

A list shows one page (Keboola 100 jobs, Airbyte at most 100, Tinybird its 100 newest). A watcher
that reads only the first page misses every job past it when many end at once. ``list_window`` is
the operation that reads a *window* of the list instead: the jobs whose order time (end or last
update, whatever the API sorts by) is within ``[since, until]``, newest first, one request per page,
until the window is read, the API's pages end, or the page budget of this poll is spent.

Paging newest first by offset while jobs keep ending never skips a job: a job that ends moves to the
top, so the pages still to read only shift down (a job seen twice, which the reader drops), and the
job that moved is newer than the window's start, so the next poll sees it. What a window could not
read within its budget, it says (``complete`` False, ``oldest`` reached), and the caller reads the
rest at its next poll (triggers/job_lists.py): a misbehaving API cannot make a poll loop forever.

Every answer is untrusted: a page larger than asked for, an entry without an order time, an API that
ignores the offset (the same page again) are told apart from a short list, so that none makes the
reader spin, repeat jobs or silently stop early.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from airflow_jobs_provider.apis.exchange import Exchange, Request, Response, header
from airflow_jobs_provider.apis.job import Job
from airflow_jobs_provider.exceptions import JobsConfigError

DEFAULT_MAX_PAGES = 50
"""Pages one poll reads at most (5,000 jobs at 100 a page); the rest waits for the next poll."""


@dataclass(frozen=True)
class ListWindow:
    """What one read of a list window found.

    :param jobs: the jobs read, newest first, each once (the first, newest copy of a job wins).
    :param pages: requests sent.
    :param complete: the whole window was read: every job whose order time is in it is in ``jobs``.
    :param oldest: the oldest order time read (where an incomplete read stopped).
    :param newest: the newest order time read.
    :param problems: why a read stopped early or what it could not trust, for the log.
    :param server_time: the API's clock when it answered the first page (its ``Date`` header), if it said.
    """

    jobs: tuple[Job, ...] = ()
    pages: int = 0
    complete: bool = True
    oldest: float | None = None
    newest: float | None = None
    problems: tuple[str, ...] = ()
    server_time: float | None = None
    notes: tuple[str, ...] = ()
    """What the read did besides paging (Tinybird: why it read jobs_log), for the log."""


@dataclass
class PageReader:
    """Collects pages into a ``ListWindow``: drops repeats, tracks order times, decides when to stop.

    :param order_time: a job's order time (epoch seconds), or None when it has none.
    :param since: the window's start: reading stops at the first page that reaches past it.
    :param page_size: what each request asked for; a shorter page is the list's end.
    """

    order_time: Callable[[Job], float | None]
    since: float | None
    page_size: int
    jobs: dict[str, Job] = field(default_factory=dict)
    pages: int = 0
    oldest: float | None = None
    newest: float | None = None
    problems: list[str] = field(default_factory=list)
    server_time: float | None = None
    notes: list[str] = field(default_factory=list)
    _last_ids: tuple[str, ...] = ()

    def switch(self, page_size: int, note: str) -> None:
        """Go on reading from another source (Tinybird's jobs_log) with its own page size."""
        self.page_size = page_size
        self._last_ids = ()
        self.notes.append(note)

    def answered(self, response: Response) -> Response:
        """Note the API's clock from the first answer's ``Date`` header; returns the answer."""
        if self.server_time is None:
            self.server_time = date_header(response)
        return response

    def add(self, page: list[Job]) -> bool:
        """Take one page; True when the window needs the next page."""
        self.pages += 1
        ids = tuple(job.job_id for job in page)
        if ids and ids == self._last_ids:
            self.problems.append(
                f"page {self.pages} repeats page {self.pages - 1} (the API ignores the offset): stopped paging"
            )
            return False
        self._last_ids = ids
        reached_start = False
        for job in page:
            moment = self.order_time(job)
            if moment is not None:
                self.oldest = moment if self.oldest is None else min(self.oldest, moment)
                self.newest = moment if self.newest is None else max(self.newest, moment)
                if self.since is not None and moment < self.since:
                    reached_start = True
            known = self.jobs.get(job.job_id)
            if known is None or (job.status.is_terminal and not known.status.is_terminal):
                self.jobs[job.job_id] = job  # the newest copy, unless an older one shows the job ended
        if len(page) > self.page_size:  # its offsets cannot be trusted either: read no further
            self.problems.append(f"page {self.pages} holds {len(page)} jobs, more than the {self.page_size} asked for")
            return False
        return len(page) >= self.page_size and not reached_start

    def window(self, complete: bool) -> ListWindow:
        return ListWindow(
            jobs=tuple(self.jobs.values()),
            pages=self.pages,
            complete=complete and not self.problems,
            oldest=self.oldest,
            newest=self.newest,
            problems=tuple(self.problems),
            server_time=self.server_time,
            notes=tuple(self.notes),
        )


def offset_param(offset: int) -> dict[str, Any]:
    """The page that starts at job ``offset``, for lists paged by an ``offset`` query parameter."""
    return {"offset": offset}


def read_pages(
    page_request: Callable[[int], Request],
    parse_page: Callable[[Response], list[Job]],
    reader: PageReader,
    max_pages: int,
    send: Callable[[Request], Exchange[Response]] | None = None,
) -> Exchange[ListWindow]:
    """Offset paging: page ``n`` starts at ``n * page_size``; stops as ``PageReader.add`` says, or at the budget.

    ``send`` wraps each request (Airbyte's ``authorized``); by default the request is yielded as is.
    """
    offset = 0
    while True:
        request = page_request(offset)
        response = yield from (send(request) if send is not None else _plain(request))
        more = reader.add(parse_page(reader.answered(response)))
        if not more:
            return reader.window(complete=True)
        if reader.pages >= max_pages:
            reader.problems.append(
                f"stopped after {reader.pages} pages (the cap of one poll); the rest is read at the next poll"
            )
            return reader.window(complete=False)
        offset += reader.page_size


def _plain(request: Request) -> Exchange[Response]:
    response = yield request
    return response


def page_budget(max_pages: Any) -> int:
    """The page cap of one read, checked (a caller's number, never an API's)."""
    if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
        raise ValueError(f"max_pages must be a whole number >= 1, got {max_pages!r}")
    return max_pages


def merged_filters(filters: Mapping[str, Any], owned: Iterable[str], api: str, why: str) -> dict[str, Any]:
    """The caller's filters, refusing the ones a window read sets itself (its sort, offset, time range)."""
    taken = sorted(set(filters) & set(owned))
    if taken:
        raise JobsConfigError(
            f"an event watcher on {api} sets {', '.join(taken)} itself ({why}); leave {', '.join(taken)} out of "
            "its filters"
        )
    return dict(filters)


MAX_CLOCK_SKEW = 86_400.0
"""A ``Date`` further than this from the caller's clock is not the API's clock (a broken proxy): ignored."""


def date_header(response: Response, now: float | None = None) -> float | None:
    """The answer's ``Date`` header as epoch seconds; None when absent or unreadable."""
    text = header(response.headers, "Date")
    if not text:
        return None
    try:
        moment = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if now is not None and abs(moment - now) > MAX_CLOCK_SKEW:
        return None
    return moment
