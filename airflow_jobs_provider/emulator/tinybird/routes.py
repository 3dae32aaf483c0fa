"""The Tinybird Jobs API (job-apis.md §1): job list, detail, cancel, the endpoints that start
jobs, and ``/v0/sql`` on ``tinybird.jobs_log``.

Paths, auth rules, error bodies and cancel rules follow the real server, so a client that works
here (including Tinybird's own ``TinyB`` client) works against Tinybird. Any pipe, node or
data source name is accepted: the emulator keeps no catalogue, only jobs.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from airflow_jobs_provider.emulator.core.access_log import route_name
from airflow_jobs_provider.emulator.core.auth import same_secret
from airflow_jobs_provider.emulator.core.errors import JsonError
from airflow_jobs_provider.emulator.core.http_util import base_url
from airflow_jobs_provider.emulator.core.lifecycle import Phase, as_created
from airflow_jobs_provider.emulator.core.store import JobStore, StoredJob
from airflow_jobs_provider.emulator.tinybird.shapes import (
    API,
    IMPORT,
    POPULATE,
    STATES,
    creation_json,
    detail_json,
    is_cancellable,
    jobs_log_row,
    list_item_json,
    naive_utc,
)
from airflow_jobs_provider.emulator.tinybird.sql import SqlError, parse_query, run_query

DOCS = "https://docs.tinybird.co"
AUTH_DOC = "/api-reference/overview#authentication"
JOBS_DOC = "/api-reference/jobs-api.html"
LIST_DOC = f"{JOBS_DOC}#get--v0-jobs-?"
DETAIL_DOC = f"{JOBS_DOC}#get--v0-jobs-(.+)"
CANCEL_DOC = f"{JOBS_DOC}#post--v0-jobs-(.+)-cancel"
PIPES_DOC = "/api-reference/pipe-api.html"
DATASOURCES_DOC = "/api-reference/datasource-api.html#post--v0-datasources-?"
SQL_DOC = "/api-reference/query-api.html#get--v0-sql"
MAX_LISTED = 100
RETENTION_SECONDS = 48 * 3600
"""``JOB_TTL_IN_HOURS``: a job older than this has left the Jobs API (list and detail); jobs_log keeps it."""
IMPORT_MODES = ("append", "create", "replace")
IMPORT_FORMATS = ("csv", "ndjson", "parquet")
COPY_MODES = ("append", "replace")


def tinybird_error(status: int, message: str, doc: str) -> JsonError:
    """Tinybird's error body: always ``error``, with the page of the docs that explains it."""
    return JsonError(status, {"error": message, "documentation": f"{DOCS}{doc}"})


def stable_id(namespace: str, name: str) -> str:
    """``t_<32 hex>`` that stays the same for a name, as a real pipe or data source id would."""
    return "t_" + hashlib.sha1(f"{namespace}:{name}".encode()).hexdigest()[:32]


def _datasource(name: str) -> dict[str, str]:
    return {"id": stable_id("datasource", name), "name": name}


def _pipe(name: str) -> dict[str, str]:
    return {"pipe_id": stable_id("pipe", name), "pipe_name": name}


def _parse_date(value: str) -> datetime:
    """ISO 8601 to naive UTC; a bad date is the server's ``invalid_date_format`` 400."""
    try:
        parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError as error:
        raise tinybird_error(400, f"The date provided is an {str(error).lower()}", LIST_DOC) from None
    return parsed.astimezone(timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed


def _template_params(query: Mapping[str, str]) -> dict[str, str]:
    """Pipe parameters: everything but the token and Tinybird's own ``_``-prefixed options."""
    return {key: value for key, value in query.items() if key != "token" and not key.startswith("_")}


class TinybirdApi:
    """Handlers for the Tinybird routes, sharing the app's job store and token."""

    def __init__(self, store: JobStore, token: str) -> None:
        self._store = store
        self._token = token

    # --- auth -------------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> None:
        """``token`` parameter first (query, or form body as Tornado reads it), then Bearer."""
        token = request.query.get("token")
        if not token and request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            form_token = (await request.post()).get("token")
            token = form_token if isinstance(form_token, str) else None
        if not token:
            parts = request.headers.get("Authorization", "").split(" ")
            token = parts[1] if len(parts) == 2 and parts[0] == "Bearer" else None
        if not same_secret(token, self._token):
            raise tinybird_error(403, "invalid authentication token", AUTH_DOC)

    # --- jobs API ---------------------------------------------------------------------

    def _job(self, request: web.Request, doc: str) -> StoredJob:
        job_id = request.match_info["job_id"]
        job = self._store.get(API, job_id)
        if job is None or not self._retained(job):
            raise tinybird_error(404, f'Job with id "{job_id}" not found', doc)
        return job

    def _retained(self, job: StoredJob) -> bool:
        return job.facts.created >= self._store.now() - RETENTION_SECONDS

    async def list_jobs(self, request: web.Request) -> web.Response:
        await self._authorize(request)
        query = request.query
        after = _parse_date(query["created_after"]) if "created_after" in query else None
        before = _parse_date(query["created_before"]) if "created_before" in query else None
        wanted = {key: query[key] for key in ("kind", "status", "pipe_id", "pipe_name") if key in query}
        items = []
        for job in self._store.jobs(API):
            if not self._retained(job):
                continue
            snap = self._store.observe(job)
            created = naive_utc(snap.created_at)
            values = {
                "kind": job.kind,
                "status": snap.raw_status,
                "pipe_id": job.attrs.get("pipe_id"),
                "pipe_name": job.attrs.get("pipe_name"),
            }
            if any(values.get(key) != value for key, value in wanted.items()):
                continue
            if (after is not None and created <= after) or (before is not None and created >= before):
                continue
            items.append((snap.created_at, list_item_json(job, snap, base_url(request))))
        items.reverse()  # newest first, also among jobs created in the same clock tick
        items.sort(key=lambda item: item[0], reverse=True)
        return web.json_response({"jobs": [body for _, body in items[:MAX_LISTED]]})

    async def get_job(self, request: web.Request) -> web.Response:
        await self._authorize(request)
        job = self._job(request, DETAIL_DOC)
        self._store.count_get(job)
        return web.json_response(detail_json(job, self._store.observe(job)))

    async def cancel_job(self, request: web.Request) -> web.Response:
        """``Job.try_to_cancel`` (§1.5): waiting jobs stop at once, working populates wind down."""
        await self._authorize(request)
        job = self._job(request, CANCEL_DOC)
        snap = self._store.observe(job)
        if snap.phase is Phase.CANCELLING:
            raise tinybird_error(400, "Job is already being cancelled", CANCEL_DOC)
        if not is_cancellable(job, snap):
            raise tinybird_error(400, "Job is not in cancellable status", CANCEL_DOC)
        snap = self._store.cancel(job, immediate=snap.phase is Phase.QUEUED)
        return web.json_response(detail_json(job, snap))

    # --- endpoints that start jobs ----------------------------------------------------

    def _start(self, request: web.Request, kind: str, attrs: Mapping[str, Any]) -> web.Response:
        job = self._store.create(API, str(uuid.uuid4()), kind, attrs)
        return web.json_response(creation_json(job, as_created(job.facts, STATES), base_url(request)))

    async def run_copy(self, request: web.Request) -> web.Response:
        await self._authorize(request)
        pipe = request.match_info["pipe"]
        mode = request.query.get("_mode")
        if mode is not None and mode not in COPY_MODES:
            message = f"Invalid _mode '{mode}', valid values are: {', '.join(COPY_MODES)}"
            raise tinybird_error(400, message, PIPES_DOC)
        attrs = {
            **_pipe(pipe),
            "datasource": _datasource(f"{pipe}_copy"),
            "mode": mode,
            "parameters": _template_params(request.query),
        }
        return self._start(request, "copy", attrs)

    async def run_sink(self, request: web.Request) -> web.Response:
        await self._authorize(request)
        attrs = {**_pipe(request.match_info["pipe"]), "parameters": _template_params(request.query)}
        return self._start(request, "sink", attrs)

    async def populate(self, request: web.Request) -> web.Response:
        await self._authorize(request)
        pipe, node = request.match_info["pipe"], request.match_info["node"]
        subset: float | None = None
        if "populate_subset" in request.query:
            try:
                subset = float(request.query["populate_subset"])
            except ValueError:
                raise tinybird_error(400, "populate_subset must be a number between 0 and 1", PIPES_DOC) from None
        attrs = {
            **_pipe(pipe),
            "node": node,
            "datasource": _datasource(f"{pipe}_mv"),
            "truncate": request.query.get("truncate", "false").lower() == "true",
            "populate_subset": subset,
            "populate_condition": request.query.get("populate_condition"),
            "query_ids": [uuid.uuid4().hex[:26].upper() for _ in range(3)],
        }
        return self._start(request, POPULATE, attrs)

    async def import_url(self, request: web.Request) -> web.Response:
        """``POST /v0/datasources?name=&url=``: only URL imports start jobs, so only they exist here."""
        await self._authorize(request)
        query = request.query
        name, url = query.get("name", ""), query.get("url", "")
        mode, file_format = query.get("mode", "create"), query.get("format", "csv")
        if not name:
            raise tinybird_error(400, "The 'name' parameter is required to import data", DATASOURCES_DOC)
        if not url:
            message = "The 'url' parameter is required: the emulator only starts URL imports"
            raise tinybird_error(400, message, DATASOURCES_DOC)
        if mode not in IMPORT_MODES:
            message = f"Invalid mode '{mode}', valid modes are: {', '.join(IMPORT_MODES)}"
            raise tinybird_error(400, message, DATASOURCES_DOC)
        if file_format not in IMPORT_FORMATS:
            message = f"Invalid format '{file_format}', valid formats are: {', '.join(IMPORT_FORMATS)}"
            raise tinybird_error(400, message, DATASOURCES_DOC)
        attrs = {"datasource": _datasource(name), "mode": mode, "url": url, "format": file_format}
        return self._start(request, IMPORT, attrs)

    def bulk_job(self, spec: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """A copy or sink job of a pipe, as its start call would make it (``/_emulator/jobs/tinybird``)."""
        kind, pipe = spec.get("kind", "copy"), spec.get("pipe")
        if kind not in ("copy", "sink") or not isinstance(pipe, str) or not pipe:
            raise ValueError("tinybird bulk jobs take {'kind': 'copy' or 'sink', 'pipe': '<pipe name>'}")
        attrs: dict[str, Any] = {**_pipe(pipe), "parameters": {}}
        if kind == "copy":
            attrs.update(datasource=_datasource(f"{pipe}_copy"), mode=None)
        return str(uuid.uuid4()), kind, attrs

    # --- SQL on jobs_log --------------------------------------------------------------

    async def sql(self, request: web.Request) -> web.Response:
        """``/v0/sql``: ``q`` in the query string, a POST form, or the raw POST body (as TinyB sends)."""
        await self._authorize(request)
        sql = request.query.get("q")
        if sql is None and request.method == "POST":
            if request.content_type == "application/x-www-form-urlencoded":
                form_sql = (await request.post()).get("q")
                sql = form_sql if isinstance(form_sql, str) else None
            else:
                sql = await request.text()
        if not sql or not sql.strip():
            raise tinybird_error(400, "The query is empty: send it as the 'q' parameter", SQL_DOC)
        try:
            query = parse_query(sql)
        except SqlError as error:
            raise tinybird_error(400, str(error), SQL_DOC) from None
        jobs = self._store.jobs(API, include_expired=True)
        return web.json_response(run_query(query, [jobs_log_row(job, self._store.observe(job)) for job in jobs]))


def register(app: web.Application, store: JobStore, token: str) -> None:
    """Add the Tinybird routes to ``app`` and its states to ``store``."""
    store.register_api(API, STATES)
    handlers = TinybirdApi(store, token)
    store.register_maker(API, handlers.bulk_job)
    router = app.router
    router.add_get("/v0/jobs{slash:/?}", handlers.list_jobs, name=route_name(API, "jobs"))
    router.add_post("/v0/jobs/{job_id}/cancel", handlers.cancel_job, name=route_name(API, "job_cancel"))
    router.add_get("/v0/jobs/{job_id}", handlers.get_job, name=route_name(API, "job"))
    router.add_post("/v0/pipes/{pipe}/copy", handlers.run_copy, name=route_name(API, "copy"))
    router.add_post("/v0/pipes/{pipe}/sink", handlers.run_sink, name=route_name(API, "sink"))
    router.add_post("/v0/pipes/{pipe}/nodes/{node}/population", handlers.populate, name=route_name(API, "population"))
    router.add_post("/v0/datasources", handlers.import_url, name=route_name(API, "datasources"))
    sql = router.add_resource("/v0/sql", name=route_name(API, "sql"))
    sql.add_route("GET", handlers.sql)
    sql.add_route("POST", handlers.sql)
