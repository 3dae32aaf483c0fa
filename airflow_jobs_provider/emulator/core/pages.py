"""HTML pages at the vendors' UI paths, so that every "Job" button the provider shows opens a page.

They stand in for the vendors' web apps: no login, one page per job (or per Airbyte connection),
showing what the API would say about it. Every value is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from aiohttp import web

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2rem}}td,th{{padding:.2rem .8rem;text-align:left}}
.state{{font-weight:bold}}</style></head>
<body><p>jobs-emulator &middot; {vendor}</p><h1>{title}</h1>
<table>{rows}</table></body></html>
"""


def html_page(vendor: str, title: str, rows: Sequence[tuple[str, object]]) -> web.Response:
    """A page with a title and a two-column table; the ``state`` row is marked for readers and tests."""
    cells = "".join(
        f'<tr><th>{escape(name)}</th><td{" class=state" if name == "state" else ""}>{escape(str(value))}</td></tr>'
        for name, value in rows
    )
    body = PAGE.format(vendor=escape(vendor), title=escape(title), rows=cells)
    return web.Response(text=body, content_type="text/html")


def not_found_page(vendor: str, what: str) -> web.Response:
    response = html_page(vendor, "Not found", [("missing", what)])
    response.set_status(404)
    return response
