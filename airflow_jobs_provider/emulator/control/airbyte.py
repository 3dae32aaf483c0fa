"""``/_emulator/airbyte/tokens``: the lifetime of the emulated Airbyte's access tokens, and revoking them.

GET shows ``{"lifetime", "issued", "live"}``; POST ``{"lifetime": s}`` and/or ``{"revoke": true}``
changes the lifetime of tokens issued from now on and revokes every issued token, then shows the
same. The lifetime outlives ``POST /_emulator/reset``.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from airflow_jobs_provider.emulator.airbyte.auth import TokenBook
from airflow_jobs_provider.emulator.control.endpoint import PREFIX, control_error
from airflow_jobs_provider.emulator.core.http_util import json_object

PATH = f"{PREFIX}/airbyte/tokens"
FIELDS = frozenset({"lifetime", "revoke"})


def register(app: web.Application, tokens: TokenBook, now: Callable[[], float]) -> None:
    """Add the token-settings route for the Airbyte API's ``tokens`` (unnamed, like every control route)."""

    async def handle(request: web.Request) -> web.Response:
        if request.method == "POST":
            body = await json_object(request)
            if body is None or set(body) - FIELDS:
                raise control_error(400, "body must be a JSON object with 'lifetime' (seconds) and/or 'revoke'")
            if "lifetime" in body:
                try:
                    tokens.configure(body["lifetime"])
                except ValueError as error:
                    raise control_error(400, str(error)) from None
            if body.get("revoke") is True:
                tokens.revoke_all()
        return web.json_response(tokens.state(now()))

    app.router.add_get(PATH, handle)
    app.router.add_post(PATH, handle)
