"""Small request helpers shared by the API modules."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from aiohttp import web


def base_url(request: web.Request) -> str:
    """``scheme://host[:port]`` as the client addressed us, for URLs that point back here."""
    return f"{request.scheme}://{request.host}"


async def json_object(request: web.Request) -> dict[str, Any] | None:
    """The body as a JSON object; None when it is empty, not JSON, or JSON but not an object.

    Each API words its own error for a bad body, so the caller raises it.
    """
    text = await request.text()
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def whole_number(text: str, low: int, high: int | None = None) -> int | None:
    """``text`` as a whole number from ``low`` to ``high`` (None: no upper bound), else None.

    ASCII digits only (``'²'.isdigit()`` is true, but ``int('²')`` fails). Each API words its own
    error for a bad value, so the caller raises it.
    """
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number >= low and (high is None or number <= high) else None


def query_number(
    query: Mapping[str, str], name: str, low: int, high: int | None, refuse: Callable[[str], Exception]
) -> int | None:
    """Query parameter ``name`` as a whole number from ``low`` to ``high``, None when absent.

    ``refuse(text)`` is the API's own error for a bad value (each words it its own way).
    """
    text = query.get(name)
    if text is None:
        return None
    number = whole_number(text, low, high)
    if number is None:
        raise refuse(text)
    return number


def iso_z(epoch: float) -> str:
    """``2024-07-22T11:47:58.207Z``: ISO 8601 in UTC with a ``Z``."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
