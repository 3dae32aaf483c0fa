"""``/_emulator/faults``: set, read and clear fault-injection rules (emulator/core/faults.py).

``POST`` takes one rule and answers with every rule and the counts (as ``GET`` does)::

    {"api": "tinybird", "route": "job", "seed": 7,
     "rates": {"5xx": 0.2, "429": 0.05, "reset": 0.05, "stall": 0.02, "garbage": 0.01},
     "retry_after": 0.2, "stall_seconds": 2, "slow_seconds": 0.3}

``times`` (optional) stops the rule after that many faults; ``method`` (optional) limits it to
requests of that HTTP method.

``route`` is optional: a route name (``job``, ``copy``, Faktory's ``PUSH``) or a path prefix
(``/v0/jobs``); without it the rule covers the whole API, and a route's own rule wins over the
API-wide one. Posting the same (api, route) again replaces the rule; all rates 0 removes it.
``GET`` shows ``{"rules": [...], "injected": {api: {kind: count}}}``; ``DELETE`` (and
``POST /_emulator/reset``) removes every rule and zeroes the counts.
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from airflow_jobs_provider.emulator.control.endpoint import PREFIX, control_error
from airflow_jobs_provider.emulator.core.errors import JsonError
from airflow_jobs_provider.emulator.core.faults import HTTP_KINDS, TCP_KINDS, FaultInjector, FaultRule
from airflow_jobs_provider.emulator.core.http_util import json_object

PATH = f"{PREFIX}/faults"
FIELDS = frozenset({"api", "route", "seed", "rates", "retry_after", "stall_seconds", "slow_seconds", "times", "method"})
TCP_APIS = frozenset({"faktory"})


def _bad(message: str) -> JsonError:
    return control_error(400, message)


def parse_rule(body: dict[str, Any] | None, apis: list[str]) -> FaultRule:
    """Check a rule as posted (None: the body was no JSON object); every refusal names the field."""
    if body is None:
        raise _bad("body must be a JSON object")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise _bad(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(FIELDS))}")
    api = body.get("api")
    if api not in apis:
        raise _bad(f"field 'api' must be one of {', '.join(apis)}, got {api!r}")
    route = body.get("route")
    if route is not None and (not isinstance(route, str) or not route):
        raise _bad("field 'route' must be a route name (e.g. 'job') or a path prefix starting with '/'")
    seed = body.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise _bad(f"field 'seed' must be an integer, got {seed!r}")
    return FaultRule(
        api=api,
        route=route,
        rates=_rates(body.get("rates"), TCP_KINDS if api in TCP_APIS else HTTP_KINDS, api),
        seed=seed,
        retry_after=_seconds(body, "retry_after", 1.0),
        stall_seconds=_seconds(body, "stall_seconds", 30.0),
        slow_seconds=_seconds(body, "slow_seconds", 0.5),
        times=_times(body.get("times")),
        method=_method(body.get("method")),
    )


def _method(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        raise _bad(f"field 'method' must be an HTTP method such as 'POST', got {value!r}")
    return value.upper()


def _times(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _bad(f"field 'times' must be a whole number >= 1 (faults to inject, then none), got {value!r}")
    return value


def _rates(value: Any, kinds: tuple[str, ...], api: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise _bad(f"field 'rates' must be an object of fault kind -> probability; kinds: {', '.join(kinds)}")
    unknown = sorted(set(value) - set(kinds))
    if unknown:
        hint = " (Faktory speaks TCP: it has no HTTP statuses to fail with)" if api in TCP_APIS else ""
        raise _bad(f"unknown fault kind(s) {', '.join(unknown)} for {api}{hint}; allowed: {', '.join(kinds)}")
    rates = {}
    for kind in kinds:  # a fixed order, so a seed always means the same draws
        rate = value.get(kind, 0.0)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise _bad(f"rate {kind!r} must be a probability between 0 and 1, got {rate!r}")
        if rate:
            rates[kind] = float(rate)
    if sum(rates.values()) > 1 + 1e-9:
        raise _bad(f"the rates add up to {sum(rates.values()):g}; at most 1 (each request gets one fault at most)")
    return rates


def _seconds(body: dict[str, Any], name: str, default: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise _bad(f"field {name!r} must be a number of seconds >= 0, got {value!r}")
    return float(value)


def register(app: web.Application, faults: FaultInjector, apis: list[str]) -> None:
    async def handle(request: web.Request) -> web.Response:
        if request.method == "POST":
            faults.set_rule(parse_rule(await json_object(request), apis))
        elif request.method == "DELETE":
            faults.clear()
        elif request.method != "GET":
            raise control_error(405, "use GET to read, POST to set or DELETE to clear fault rules")
        return web.json_response(faults.describe())

    app.router.add_route("*", PATH, handle)
