"""Error responses in each API's own shape, raised from anywhere inside a handler.

Handlers validate in small helpers; raising lets a helper stop the request without every
caller checking a return value. The middleware turns the exception into the JSON body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler


class JsonError(Exception):
    """Answer the current request with ``status`` and the JSON ``body`` (the API's error shape)."""

    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        super().__init__(status, dict(body))
        self.status = status
        self.body = dict(body)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except JsonError as error:
        return web.json_response(error.body, status=error.status)
