"""``/_emulator/faktory``: the Faktory listener's address, its command log, and its two settings.

GET shows ``{"url", "enterprise", "track_ttl", "connections", "commands"}``; POST changes
``enterprise`` (false = open-source Faktory: TRACK answers ``-ERR``) and ``track_ttl`` (seconds a
finished job's tracking record lives). ``POST /_emulator/reset`` resets all of it, like the rest
of the emulator (build_app hands ``FaktoryServer.reset`` to the control endpoint).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from airflow_jobs_provider.emulator.control.endpoint import PREFIX, control_error
from airflow_jobs_provider.emulator.core.http_util import json_object
from airflow_jobs_provider.emulator.faktory.broker import Broker
from airflow_jobs_provider.emulator.faktory.server import FaktoryServer

CONTROL_PATH = f"{PREFIX}/faktory"


def register(app: web.Application, server: FaktoryServer) -> None:
    """Add the Faktory settings route for ``server`` (the app's Faktory listener)."""
    app.router.add_route("*", CONTROL_PATH, _control(server))


def _control(server: FaktoryServer) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            body = await json_object(request)
            if body is None:
                raise control_error(400, "body must be a JSON object")
            _apply_settings(server.broker, body)
        elif request.method != "GET":
            raise control_error(405, "use GET to read or POST to change the Faktory settings")
        return web.json_response(server.describe())

    return handle


def _apply_settings(broker: Broker, body: dict[str, Any]) -> None:
    unknown = sorted(set(body) - {"enterprise", "track_ttl"})
    if unknown:
        raise control_error(400, f"unknown field(s) {', '.join(unknown)}; allowed: enterprise, track_ttl")
    if "enterprise" in body:
        if not isinstance(body["enterprise"], bool):
            raise control_error(400, "field 'enterprise' must be true or false")
        broker.enterprise = body["enterprise"]
    if "track_ttl" in body:
        ttl = body["track_ttl"]
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl > 0:
            raise control_error(400, "field 'track_ttl' must be a number of seconds > 0")
        broker.track_ttl = float(ttl)

