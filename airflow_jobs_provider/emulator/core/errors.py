"""Error responses in each API's own shape, raised from anywhere inside a handler.

Handlers validate in small helpers; raising lets a helper stop the request without every
caller checking a return value. The middleware turns the exception into the JSON body.

A body that cannot be read as text (bytes that are not UTF-8, a charset that does not exist)
is the client's mistake, which real APIs answer with a 400: the middleware answers it in the
shape the route's API registered (``ERROR_SHAPES``), never with a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

ErrorShape = Callable[[int, str], "JsonError | web.Response"]
ERROR_SHAPES: Any = web.AppKey("error_shapes", dict) if hasattr(web, "AppKey") else "emulator.error_shapes"
"""App key: API name → how that API answers an error (status, message)."""


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
    except UnicodeDecodeError:
        return bad_body(request, "The request body is not valid UTF-8 text")
    except LookupError as error:
        if type(error) is not LookupError:  # a KeyError or IndexError is a bug, not the client's mistake
            raise
        return bad_body(request, f"The request's charset is not supported ({error})")


def register_shape(app: web.Application, api: str, shape: ErrorShape) -> None:
    app.setdefault(ERROR_SHAPES, {})[api] = shape


def bad_body(request: web.Request, message: str) -> web.Response:
    name = request.match_info.route.name or ""
    shape = request.app.get(ERROR_SHAPES, {}).get(name.split(".", 1)[0])
    answer = shape(400, message) if shape is not None else JsonError(400, {"error": message})
    return web.json_response(answer.body, status=answer.status) if isinstance(answer, JsonError) else answer
