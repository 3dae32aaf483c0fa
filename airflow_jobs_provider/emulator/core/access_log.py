"""A record of every API request, so tests can check what a client really sent.

Each entry keeps the client's socket address (tests count TCP connections with it) and the
API that served the request, when it arrived, and the fault injected into it, if any
(emulator/core/faults.py). Tokens are never stored: the ``token`` query value is replaced
by ``***`` and headers are not recorded at all. Control-endpoint calls are left out, so the
log shows exactly the traffic of the client under test.

Routes tell which API they belong to by their name, ``"<api>.<route>"`` (see ``route_name``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

CONTROL_PREFIX = "/_emulator/"
REDACTED = "***"
FAULT_KEY: Any = web.RequestKey("fault", str) if hasattr(web, "RequestKey") else "emulator.fault"
"""Request key where fault injection (emulator/core/faults.py) notes the kind of fault it injected."""
UNANSWERED_FAULTS = frozenset({"reset", "stall"})
"""Faults after which the client got no status line: their entries have status 0."""


@dataclass(frozen=True)
class AccessEntry:
    method: str
    path: str
    status: int
    peer: str
    api: str | None
    fault: str | None = None
    """The injected fault's kind (``5xx``, ``reset``, ...), None for a normal answer."""
    time: float = 0.0
    """When the request arrived (epoch seconds): tests check the gaps that Retry-After asks for."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class AccessLog:
    """Thread-safe list of entries, oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[AccessEntry] = []

    def record(self, entry: AccessEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[AccessEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def route_name(api: str, route: str) -> str:
    """Name for a route of ``api``; the access log reads the API back from it."""
    return f"{api}.{route}"


def api_of(request: web.Request) -> str | None:
    """The API whose route matched the request, or None (unknown path, unnamed route)."""
    name = request.match_info.route.name
    return name.split(".", 1)[0] if name else None


def redacted_path(raw_path: str, raw_query: str) -> str:
    """Path and query string as sent, with every ``token`` value replaced by ``***``."""
    if not raw_query:
        return raw_path
    parts = []
    for part in raw_query.split("&"):
        key = part.split("=", 1)[0]
        parts.append(f"{key}={REDACTED}" if unquote_plus(key) == "token" else part)
    return f"{raw_path}?{'&'.join(parts)}"


def peer_of(request: web.Request) -> str:
    """``host:port`` of the client socket: one value per TCP connection."""
    peername = request.transport.get_extra_info("peername") if request.transport else None
    if isinstance(peername, tuple) and len(peername) >= 2:
        return f"{peername[0]}:{peername[1]}"
    return str(request.remote or "unknown")


def access_log_middleware(log: AccessLog) -> Middleware:
    """Middleware recording each API request with its final status, errors included."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = peer_of(request)  # read now: the transport may be gone once the handler returns
        arrived = time.time()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            if not request.path.startswith(CONTROL_PREFIX):
                path = redacted_path(request.rel_url.raw_path, request.rel_url.raw_query_string)
                fault = request.get(FAULT_KEY)
                status = 0 if fault in UNANSWERED_FAULTS else status
                log.record(AccessEntry(request.method, path, status, peer, api_of(request), fault, arrived))

    return middleware
