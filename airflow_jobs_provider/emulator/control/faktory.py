"""``/_emulator/faktory``: the Faktory listener's address, its command log, and its two settings.

GET shows ``{"url", "enterprise", "track_ttl", "connections", "commands"}``; POST changes
``enterprise`` (false = open-source Faktory: TRACK answers ``-ERR``) and ``track_ttl`` (seconds a
finished job's tracking record lives). ``POST /_emulator/reset`` resets all of it, like the rest
of the emulator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from airflow_jobs_provider.emulator.core.errors import JsonError
from airflow_jobs_provider.emulator.core.http_util import NO_BODY, json_body
from airflow_jobs_provider.emulator.faktory.broker import Broker

if TYPE_CHECKING:
    from airflow_jobs_provider.emulator.faktory.server import FaktoryServer

CONTROL_PATH = "/_emulator/faktory"
RESET_PATH = "/_emulator/reset"


def add_control(app: web.Application, server: FaktoryServer) -> None:
    app.router.add_route("*", CONTROL_PATH, _control(server))
    app.middlewares.append(_reset_with_the_store(server))


def _control(server: FaktoryServer) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            body = await json_body(request)
            if body is NO_BODY or not isinstance(body, dict):
                raise JsonError(400, {"error": "body must be a JSON object"})
            _apply_settings(server.broker, body)
        elif request.method != "GET":
            raise JsonError(405, {"error": "use GET to read or POST to change the Faktory settings"})
        return web.json_response(server.describe())

    return handle


def _apply_settings(broker: Broker, body: dict[str, Any]) -> None:
    unknown = sorted(set(body) - {"enterprise", "track_ttl"})
    if unknown:
        raise JsonError(400, {"error": f"unknown field(s) {', '.join(unknown)}; allowed: enterprise, track_ttl"})
    if "enterprise" in body:
        if not isinstance(body["enterprise"], bool):
            raise JsonError(400, {"error": "field 'enterprise' must be true or false"})
        broker.enterprise = body["enterprise"]
    if "track_ttl" in body:
        ttl = body["track_ttl"]
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl > 0:
            raise JsonError(400, {"error": "field 'track_ttl' must be a number of seconds > 0"})
        broker.track_ttl = float(ttl)


def _reset_with_the_store(server: FaktoryServer) -> Middleware:
    """``POST /_emulator/reset`` also resets Faktory: settings, command log and connection count."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if request.method == "POST" and request.path == RESET_PATH and response.status == 200:
            server.reset()
        return response

    return middleware
