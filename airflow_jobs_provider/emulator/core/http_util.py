"""Small request helpers shared by the API modules."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

NO_BODY = object()
"""Returned by ``json_body`` when the body is empty or not JSON, for the caller to word the error."""


def base_url(request: web.Request) -> str:
    """``scheme://host[:port]`` as the client addressed us, for URLs that point back here."""
    return f"{request.scheme}://{request.host}"


async def json_body(request: web.Request) -> Any:
    """The decoded JSON body, or NO_BODY: each API words its own error for a bad body."""
    text = await request.text()
    try:
        return json.loads(text) if text.strip() else NO_BODY
    except ValueError:
        return NO_BODY


def iso_z(epoch: float) -> str:
    """``2024-07-22T11:47:58.207Z``: ISO 8601 in UTC with a ``Z``."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
