"""Fault injection: make the emulated APIs fail the way real networks and overloaded APIs do.

A rule (set through ``POST /_emulator/faults``, see emulator/control/faults.py) gives one API, or
one route of it, a rate per fault kind. Each request draws its fault from a hash of the rule's
seed, the request's method and path, and how many times that same request was seen before, so
a run is reproducible for a given seed, and concurrent clients do not change each other's draws.

When a fault happens relative to the API's own handler models what the client can know:

- ``429`` and ``503`` answer BEFORE the handler runs: a rate limiter or a load balancer refused
  the request, so no job was created (clients may safely send a start again).
- ``500``, ``502`` and ``504`` (kind ``5xx``, or ``html`` for a proxy's HTML page) answer AFTER
  the handler ran: the job may exist although the client got an error.
- ``reset`` drops the TCP connection, before or after the handler (the seed decides): the client
  cannot tell which, which is exactly why a start is never sent twice after one.
- ``lost`` always runs the handler first and then drops the connection with no answer: the job
  exists and the client cannot know it (a deterministic uncertain start, for tests).
- ``dropped`` drops the connection before the handler runs: no job, and to the client it looks
  exactly like ``lost``.

A rule may say ``times``: it injects that many faults, then lets every request through; and
``method``: it covers only requests of that method (``POST`` on a route that also lists).
- ``stall`` runs the handler, then holds the answer for ``stall_seconds`` and drops the
  connection (the client's timeout fires); ``slow`` delays a normal answer by ``slow_seconds``.
- ``garbage`` answers the handler's status with bytes that are not JSON; ``truncated`` sends the
  handler's answer cut in half, then drops the connection.

Faktory (TCP) gets ``reset``, ``lost``, ``stall``, ``slow``, ``garbage`` and ``truncated`` on its replies
(see ``tcp_fault``); it has no HTTP status to fail with.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import struct
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from airflow_jobs_provider.emulator.core.access_log import CONTROL_PREFIX, FAULT_KEY, api_of

HTTP_KINDS = ("5xx", "429", "reset", "lost", "dropped", "stall", "garbage", "html", "truncated", "slow")
TCP_KINDS = ("reset", "lost", "dropped", "stall", "garbage", "truncated", "slow")
AFTER_STATUSES = (500, 502, 504)
"""Error statuses a server sends after it may have acted on the request."""
HTML_PAGE = "<html><head><title>{status}</title></head><body><h1>{status} {reason}</h1><hr>nginx</body></html>"


@dataclass(frozen=True)
class FaultRule:
    """Fault rates for one API, or one route of it (a route name like ``job``, or a path prefix)."""

    api: str
    route: str | None
    rates: Mapping[str, float]
    seed: int = 0
    retry_after: float = 1.0
    stall_seconds: float = 30.0
    slow_seconds: float = 0.5
    times: int | None = None
    """Inject at most this many faults, then none (None: no limit)."""
    method: str | None = None
    """Only requests with this HTTP method (None: all)."""

    def matches(self, route_name: str | None, path: str) -> bool:
        if self.route is None:
            return True
        if self.route.startswith("/"):
            return path.startswith(self.route)
        return route_name == self.route

    def to_json(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "route": self.route,
            "seed": self.seed,
            "rates": dict(self.rates),
            "retry_after": self.retry_after,
            "stall_seconds": self.stall_seconds,
            "slow_seconds": self.slow_seconds,
            "times": self.times,
            "method": self.method,
        }


@dataclass(frozen=True)
class Fault:
    """One decided fault: its kind, the status it answers with, and whether the API saw the request."""

    kind: str
    rule: FaultRule
    status: int | None = None
    before: bool = False
    noise: bytes = field(default=b"", repr=False)


def draw(rule: FaultRule, method: str, key: str, seen: int) -> Fault | None:
    """The fault (or None) for the ``seen``-th repeat of a request: a pure function of its inputs."""
    digest = hashlib.sha256(f"{rule.seed}|{rule.api}|{method}|{key}|{seen}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    pick = digest[8]
    for kind, rate in rule.rates.items():
        if point < rate:
            return _fault(kind, rule, pick, digest[16:])
        point -= rate
    return None


def _fault(kind: str, rule: FaultRule, pick: int, noise: bytes) -> Fault:
    if kind == "429":
        return Fault(kind, rule, status=429, before=True)
    if kind in ("5xx", "html"):
        statuses = (*AFTER_STATUSES, 503)
        status = statuses[pick % len(statuses)]
        return Fault(kind, rule, status=status, before=status == 503)
    if kind == "reset":
        return Fault(kind, rule, before=pick % 2 == 0)
    if kind == "dropped":
        return Fault(kind, rule, before=True)
    if kind == "garbage":
        return Fault(kind, rule, noise=b"\x8b\x00{<" + noise.hex().encode()[:20] + b"\xff")
    return Fault(kind, rule)


class FaultInjector:
    """The rules, a per-request repeat counter, and the count of faults injected per API and kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: dict[tuple[str, str | None], FaultRule] = {}
        self._seen: Counter[tuple[str, str, str]] = Counter()
        self._injected: dict[str, Counter[str]] = {}
        self._spent: Counter[tuple[str, str | None]] = Counter()
        """Faults each rule with ``times`` has injected."""

    def set_rule(self, rule: FaultRule) -> None:
        """Add or replace the rule for (api, route); a rule with no rate above 0 removes it."""
        with self._lock:
            self._spent.pop((rule.api, rule.route), None)
            if any(rate > 0 for rate in rule.rates.values()):
                self._rules[(rule.api, rule.route)] = rule
            else:
                self._rules.pop((rule.api, rule.route), None)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._seen.clear()
            self._injected.clear()
            self._spent.clear()

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rules": [rule.to_json() for rule in self._rules.values()],
                "injected": {api: dict(counts) for api, counts in self._injected.items()},
            }

    def decide(self, api: str, route_name: str | None, method: str, key: str) -> Fault | None:
        """The fault for this request, if any; a route's own rule wins over the API-wide one."""
        with self._lock:
            rules = [
                rule for (name, _), rule in self._rules.items()
                if name == api and rule.matches(route_name, key) and rule.method in (None, method)
                and (rule.times is None or self._spent[(rule.api, rule.route)] < rule.times)
            ]
            if not rules:
                return None
            rule = min(rules, key=lambda candidate: candidate.route is None)
            counter = (api, method, key)
            seen = self._seen[counter]
            self._seen[counter] += 1
            fault = draw(rule, method, key, seen)
            if fault is not None:
                self._injected.setdefault(api, Counter())[fault.kind] += 1
                self._spent[(rule.api, rule.route)] += 1
            return fault

    # -- HTTP
    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        api, name = api_of(request), request.match_info.route.name
        route = name.split(".", 1)[1] if name else None
        fault = self.decide(api, route, request.method, request.rel_url.raw_path) if api else None
        if fault is None:
            return await handler(request)
        request[FAULT_KEY] = fault.kind
        if fault.before:
            return _before(request, fault)
        response = await handler(request)
        if not isinstance(response, web.Response):
            return response  # streamed answers are left alone
        return await _after(request, response, fault)


def _before(request: web.Request, fault: Fault) -> web.StreamResponse:
    if fault.kind in ("reset", "dropped"):
        return _reset(request)
    return _error_answer(fault)


async def _after(request: web.Request, response: web.Response, fault: Fault) -> web.StreamResponse:
    kind, rule = fault.kind, fault.rule
    if kind in ("5xx", "html"):
        return _error_answer(fault)
    if kind in ("reset", "lost"):
        return _reset(request)
    if kind == "stall":
        await asyncio.sleep(rule.stall_seconds)
        return _reset(request)
    if kind == "slow":
        await asyncio.sleep(rule.slow_seconds)
        return response
    if kind == "garbage":
        return web.Response(status=response.status, body=fault.noise, content_type="application/json")
    return await _truncated(request, response)


def _error_answer(fault: Fault) -> web.Response:
    status = fault.status or 500
    headers = {"Retry-After": f"{fault.rule.retry_after:g}"} if status in (429, 503) else {}
    if fault.kind == "html":
        reason = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}.get(status, "")
        page = HTML_PAGE.format(status=status, reason=reason)
        return web.Response(status=status, text=page, content_type="text/html", headers=headers)
    message = "rate limit exceeded" if status == 429 else f"emulated server error (HTTP {status})"
    return web.json_response({"error": message, "message": message}, status=status, headers=headers)


def _reset(request: web.Request) -> web.Response:
    """Drop the connection with a TCP RST: the client reads 'connection reset by peer'."""
    _abort(request.transport)
    return web.Response(status=204)  # never reaches the client: aiohttp drops it with the connection


async def _truncated(request: web.Request, response: web.Response) -> web.StreamResponse:
    """The handler's status and headers, a Content-Length for the whole body, half of it, then a drop."""
    body = bytes(response.body) if isinstance(response.body, (bytes, bytearray)) else b""
    cut = web.StreamResponse(status=response.status, headers={"Content-Type": response.content_type})
    cut.content_length = len(body) + 1
    await cut.prepare(request)
    await cut.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()
    return cut


FAULTS_KEY = web.AppKey("faults", FaultInjector)
"""Where build_app keeps the injector, for listeners outside aiohttp's routing (Faktory's TCP port)."""


# -- TCP (Faktory)
async def tcp_fault(fault: Fault, reply: bytes, writer: asyncio.StreamWriter) -> bool:
    """Apply a fault to a Faktory reply before it is sent; True when the connection must end.

    ``slow`` only waits (the caller then sends the reply); every other kind ends the connection,
    after garbage, half the reply, or a stall past the client's timeout.
    """
    kind = fault.kind
    if kind == "slow":
        await asyncio.sleep(fault.rule.slow_seconds)
        return False
    if kind == "stall":
        await asyncio.sleep(fault.rule.stall_seconds)
    elif kind == "garbage":
        writer.write(fault.noise + b"\r\n")
        await writer.drain()
    elif kind == "truncated":
        writer.write(reply[: max(1, len(reply) // 2)])
        await writer.drain()
    _abort(writer.transport)
    return True


def _abort(transport: asyncio.BaseTransport | None) -> None:
    """Close with a TCP RST (linger 0) rather than a FIN, as a crashed peer or a middlebox would."""
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()  # type: ignore[attr-defined]
