"""Every emulated route answers malformed requests the way the real APIs do: a 4xx with a JSON
error body (an HTML page for the vendors' web UI pages), never a 500. Bad JSON, bodies that are not
UTF-8, unknown charsets, JSON of the wrong type, wrong field types and odd query values are sent,
with valid credentials, to each route."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
import requests

from airflow_jobs_provider.emulator import EmulatorServer
from airflow_jobs_provider.emulator.airbyte.shapes import WORKSPACE_ID
from airflow_jobs_provider.emulator.keboola.shapes import PROJECT
from airflow_jobs_provider.emulator.server import build_app

TOKEN = "test-token"
CONNECTION_ID = "9a1b7c3e-2f4d-4e5a-8b6c-0d1e2f3a4b5c"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "X-StorageApi-Token": TOKEN, "X-Api-Key": TOKEN}
WRONG_TYPES = {
    "id": "x", "component": 5, "config": [], "mode": {}, "configRowIds": "r", "connectionId": [],
    "jobType": {}, "task": 7, "client_id": 1, "client_secret": None, "q": 3,
}  # fmt: skip
BODIES: list[tuple[str, bytes]] = [
    ("application/json", b"{not json"),
    ("application/json", b"\xff\xfe\xfa{}"),
    ("application/json; charset=no-such-charset", b'{"a": 1}'),
    ("application/json", b"[1, 2, 3]"),
    ("application/json", b'"a string"'),
    ("application/json", b"null"),
    ("application/json", b"1e999999"),
    ("application/json", json.dumps(WRONG_TYPES).encode()),
    ("application/x-www-form-urlencoded", b"\xff=\xfe&token=%ff"),
    ("application/x-www-form-urlencoded; charset=no-such-charset", b"a=b"),
    ("text/plain", b"\xc3\x28"),
]
QUERIES = ["", "?limit=abc&offset=-1&sinceId=x&maxId=%ff", "?created_after=not-a-date&q=%ff%fe", "?id[]=&runId=%00"]


UI_PAGE_ROUTES = ("page", "branch_page", "timeline")
"""Routes (by name) of the vendors' web UI pages: a browser's page, so a 404 is an HTML page too."""
UI_PAGES: set[str] = set()


def routes() -> list[tuple[str, str]]:
    """(method, path) of every API route, path parameters filled in; the control endpoint is left out."""
    found = set()
    for resource in build_app(TOKEN).router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        path = path.replace("{slash}", "") if path else path
        if not path or path.startswith("/_emulator"):
            continue
        path = path.replace("{slash:/?}", "").replace("{job_id}", "1").replace("{run_id}", "1")
        path = path.replace("{pipe}", "p").replace("{node}", "n").replace("{project}", PROJECT["id"])
        path = path.replace("{branch}", "1").replace("{workspace_id}", WORKSPACE_ID)
        path = path.replace("{connection_id}", CONNECTION_ID)
        found.update((route.method, path) for route in resource if route.method != "HEAD")
        if (resource.name or "").rpartition(".")[2] in UI_PAGE_ROUTES:
            UI_PAGES.add(path)
    return sorted(found)


ROUTES = routes()


def test_the_routes_walk_finds_every_api():
    paths = {path for _, path in ROUTES}
    assert {"/v0/sql", "/jobs", "/v2/storage/events", "/v1/jobs", "/api/v1/jobs/get", "/acme/v2/runs/1/log"} <= paths


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=lambda value: str(value))
def test_malformed_requests_get_a_4xx_json_error_never_a_500(emulator: EmulatorServer, session: Any, method, path):
    emulator.reset()
    failures = []
    for (content_type, body), query in itertools.product(BODIES, QUERIES):
        headers = {**HEADERS, "Content-Type": content_type}
        answer = session.request(method, f"{emulator.url}{path}{query}", data=body, headers=headers, timeout=10)
        shaped = _is_json(answer) or (path in UI_PAGES and answer.headers["Content-Type"].startswith("text/html"))
        if answer.status_code >= 500 or (answer.status_code >= 400 and not shaped):
            failures.append((content_type, body[:30], query, answer.status_code, answer.text[:120]))
    assert not failures, failures


def _is_json(answer: requests.Response) -> bool:
    try:
        return isinstance(answer.json(), dict)
    except ValueError:
        return False
