"""What an HTTP API adapter sends and receives, and the drivers that run its exchanges.

Every operation is a generator that yields the Requests it needs and receives each Response,
so one piece of code serves the sync hook (requests), the async hook (aiohttp) and the
emulator's contract tests. A transport only sends; ``run_exchange`` / ``arun_exchange`` drive
the generator with it (for Faktory's Commands and Replies just as for Requests and Responses).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias, TypeVar
from urllib.parse import quote, urlencode

T = TypeVar("T")
SendT = TypeVar("SendT")
ReplyT = TypeVar("ReplyT")


@dataclass(frozen=True)
class Request:
    """What to send; ``path`` is already URL-encoded and relative to the connection's base URL.

    ``replayable`` is False for requests that start a job: those may only be retried when the
    server certainly did not receive them, or a retry could start a second job. ``host`` sends the
    request to another base URL of the same service (Keboola's Storage API beside its Queue API);
    it only ever comes from the connection, never from an API answer, since the token goes with it.
    """

    method: str
    path: str
    params: Mapping[str, str | list[str]] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    replayable: bool = True
    host: str | None = None

    def url(self, base_url: str) -> str:
        """Full, already-encoded URL: transports must send it as is (no re-quoting, no dot-segment folding)."""
        query = urlencode(self.params, doseq=True, quote_via=quote) if self.params else ""
        return f"{self.host or base_url}{self.path}" + (f"?{query}" if query else "")

    uncertain_advice: ClassVar[str] = (
        ", so the job may have started; not retried so that no second job starts (the task is not retried "
        "either). List recent jobs (JobsHook.list_jobs) to see whether it started, then clear the task if it did not."
    )
    unavailable_advice: ClassVar[str] = "the API is unavailable or overloaded, try again later"

    def describe(self) -> str:
        """How the retry log names this request (never its headers: they carry the token)."""
        return f"{self.method} {self.path}"

    def describe_at(self, base_url: str) -> str:
        return f"{self.method} {self.host or base_url}{self.path}"


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
            body: Any = json.loads(text) if text and not text.isspace() else None
        except ValueError:
            body = text
        # a plain dict is the transport's own fresh copy: no second copy per answer
        return cls(status=status, body=body, headers=headers if type(headers) is dict else dict(headers), url=url)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


Conversation: TypeAlias = Generator[SendT, ReplyT, T]
"""An operation of any API: it yields what to send and receives each reply."""
Exchange: TypeAlias = Generator[Request, Response, T]
"""An operation of an HTTP API."""


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the case of its name (HTTP names are case-insensitive)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def run_exchange(exchange: Generator[SendT, ReplyT, T], send: Callable[[SendT], ReplyT]) -> T:
    """Drive an operation with a blocking transport's ``send``."""
    try:
        message = next(exchange)
        while True:
            message = exchange.send(send(message))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def arun_exchange(exchange: Generator[SendT, ReplyT, T], send: Callable[[SendT], Awaitable[ReplyT]]) -> T:
    """Drive an operation with an async transport's ``send``."""
    try:
        message = next(exchange)
        while True:
            message = exchange.send(await send(message))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
