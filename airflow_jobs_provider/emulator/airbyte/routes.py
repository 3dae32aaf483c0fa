"""The Airbyte public API v1 (job-apis.md §3): jobs and the application token endpoint.

Paths, JSON shapes and problem+json errors follow the real API, so Airbyte's own SDK
(``airbyte-api``) works here. Point a client at ``{emulator}/v1``. Any connection UUID is
accepted: the emulator keeps no catalogue, only jobs. Emulator-only choices, where the real
behaviour is unverified: a second job for a connection with an active job is a 409
``state-conflict``, and cancelling a job that has ended is a 409 too.

The access-token lifetime and revocation are control settings (``/_emulator/airbyte/tokens``,
emulator/control/airbyte.py); register() leaves the token book under ``TOKENS_KEY`` for it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from functools import wraps
from typing import Any

from aiohttp import web

from airflow_jobs_provider.emulator.airbyte.attempts import config_error, job_id_of, job_info
from airflow_jobs_provider.emulator.airbyte.auth import (
    BASIC_USER,
    CLIENT_ID,
    TokenBook,
    basic_user,
    expires_in,
)
from airflow_jobs_provider.emulator.airbyte.shapes import (
    ACTIVE,
    API,
    STATES,
    WORKSPACE_ID,
    Problem,
    connection_json,
    job_json,
    raw_status,
)
from airflow_jobs_provider.emulator.core.access_log import route_name
from airflow_jobs_provider.emulator.core.auth import same_secret
from airflow_jobs_provider.emulator.core.errors import register_shape
from airflow_jobs_provider.emulator.core.http_util import json_object, query_number
from airflow_jobs_provider.emulator.core.lifecycle import as_created
from airflow_jobs_provider.emulator.core.pages import html_page, not_found_page
from airflow_jobs_provider.emulator.core.store import JobStore, StoredJob

START_JOB_TYPES = ("sync", "reset", "clear")
JOB_TYPES = ("sync", "reset", "refresh", "clear")
JOB_STATUSES = ("pending", "queued", "running", "incomplete", "failed", "succeeded", "cancelled")
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
ORDER_BY = re.compile(r"(createdAt|updatedAt)\|(ASC|DESC)")
DATE_FILTERS = {"createdAtStart": ("created", 1), "createdAtEnd": ("created", -1),
                "updatedAtStart": ("updated", 1), "updatedAtEnd": ("updated", -1)}

Method = Callable[["AirbyteEmulator", web.Request], Awaitable[web.Response]]


def problems(handler: Method) -> Method:
    """Turn a Problem raised by the handler into its problem+json answer."""

    @wraps(handler)
    async def answer(self: AirbyteEmulator, request: web.Request) -> web.Response:
        try:
            return await handler(self, request)
        except Problem as problem:
            return problem.response()

    return answer


def bad_request(detail: str) -> Problem:
    return Problem(400, "bad-request", detail)


class AirbyteEmulator:
    """Handlers for the Airbyte routes, sharing the app's job store and token."""

    def __init__(self, store: JobStore, token: str) -> None:
        self._store = store
        self._token = token
        self.tokens = TokenBook()
        self._ids = itertools.count(1)

    # --- auth ---------------------------------------------------------------------------

    def _authorize(self, request: web.Request) -> None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and value:
            if same_secret(value, self._token):
                return
            why = self.tokens.check(value, self._store.now())
            if why is None:
                return
            if why == "expired":
                raise Problem(401, "invalid-api-key", "The access token has expired; request a new one.")
        elif scheme.lower() == "basic":
            pair = basic_user(value)
            if pair is not None and same_secret(pair[0], BASIC_USER) and same_secret(pair[1], self._token):
                return
        raise Problem(401, "invalid-api-key", "Missing or invalid credentials in the Authorization header.")

    @problems
    async def issue_token(self, request: web.Request) -> web.Response:
        """``POST /v1/applications/token``: JSON or form body; ``grant-type``/``grant_type`` optional."""
        fields = await self._token_fields(request)
        client_id, client_secret = fields.get("client_id"), fields.get("client_secret")
        if not isinstance(client_id, str) or not isinstance(client_secret, str) or not client_id or not client_secret:
            raise bad_request("client_id and client_secret are required.")
        grant = fields.get("grant-type", fields.get("grant_type"))
        if grant is not None and grant != "client_credentials":
            raise bad_request(f"Unsupported grant type {grant!r}; use client_credentials.")
        if not (same_secret(client_id, CLIENT_ID) and same_secret(client_secret, self._token)):
            raise Problem(403, "forbidden", "Invalid client credentials.")
        token, lifetime = self.tokens.issue(self._store.now())
        return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": expires_in(lifetime)})

    async def _token_fields(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/x-www-form-urlencoded":
            return {key: str(value) for key, value in (await request.post()).items()}
        body = await json_object(request)
        if body is None:
            raise bad_request("The request body must be a JSON object or a form.")
        return body

    # --- jobs ---------------------------------------------------------------------------

    def _job(self, request: web.Request) -> StoredJob:
        job_id = request.match_info["job_id"]
        if not job_id.isdigit():
            raise bad_request(f"jobId must be an integer, got {job_id!r}.")
        job = self._store.get(API, str(int(job_id)))
        if job is None:
            raise Problem(404, "resource-not-found", f"Could not find a job with id: {job_id}",
                          resourceType="job", resourceId=job_id)
        return job

    def _json(self, job: StoredJob) -> dict[str, Any]:
        return job_json(job, self._store.observe(job), self._store.now())

    def _status(self, job: StoredJob) -> str:
        return raw_status(job, self._store.observe(job), self._store.now())

    @problems
    async def create_job(self, request: web.Request) -> web.Response:
        self._authorize(request)
        body = await json_object(request)
        if body is None:
            raise bad_request("The request body must be a JSON object with connectionId and jobType.")
        connection_id, job_type = body.get("connectionId"), body.get("jobType")
        if not isinstance(connection_id, str) or not UUID.fullmatch(connection_id):
            raise bad_request(f"connectionId must be a UUID, got {connection_id!r}.")
        if job_type == "refresh":
            raise Problem(422, "unprocessable-entity", "Refreshes are not supported in the public API.")
        if job_type not in START_JOB_TYPES:
            raise bad_request(f"jobType must be one of {', '.join(JOB_TYPES)}, got {job_type!r}.")
        for other in self._store.jobs(API):
            if other.attrs["connectionId"] == connection_id and self._status(other) in ACTIVE:
                raise Problem(409, "state-conflict", f"A sync is already running for: {connection_id}")
        attrs = {"connectionId": connection_id, "jobType": job_type}
        job = self._store.create(API, str(next(self._ids)), job_type, attrs)
        return web.json_response(job_json(job, as_created(job.facts, STATES), self._store.now()))

    async def config_job(self, request: web.Request) -> web.Response:
        """The Config API's ``POST /api/v1/jobs/get`` (emulator/airbyte/attempts.py), with the same credentials."""
        try:
            self._authorize(request)
        except Problem as problem:
            return config_error(problem.status, problem.body["detail"])
        job_id = await job_id_of(request)
        if isinstance(job_id, web.Response):
            return job_id
        job = self._store.get(API, job_id)
        if job is None:
            return config_error(404, f"Could not find job with id: {job_id}")
        return web.json_response(job_info(job, self._store.observe(job), self._store.now()))

    def bulk_job(self, spec: Any) -> tuple[str, str, dict[str, Any]]:
        """A job of a connection (``/_emulator/jobs/airbyte``); unlike ``POST /v1/jobs``, several may overlap."""
        connection_id, job_type = spec.get("connectionId"), spec.get("jobType", "sync")
        if not isinstance(connection_id, str) or not UUID.fullmatch(connection_id) or job_type not in START_JOB_TYPES:
            raise ValueError("airbyte bulk jobs take {'connectionId': '<UUID>', 'jobType': 'sync', 'reset' or 'clear'}")
        return str(next(self._ids)), job_type, {"connectionId": connection_id, "jobType": job_type}

    @problems
    async def get_job(self, request: web.Request) -> web.Response:
        self._authorize(request)
        job = self._job(request)
        self._store.count_get(job)
        return web.json_response(self._json(job))

    @problems
    async def cancel_job(self, request: web.Request) -> web.Response:
        """``DELETE /v1/jobs/{jobId}``: an active job is cancelled at once; an ended one is a 409."""
        self._authorize(request)
        job = self._job(request)
        status = self._status(job)
        if status not in ACTIVE:
            raise Problem(409, "state-conflict", f"Job {job.job_id} is not running (status: {status}).")
        self._store.cancel(job, immediate=True)
        return web.json_response(self._json(job))

    @problems
    async def get_connection(self, request: web.Request) -> web.Response:
        """``GET /v1/connections/{connectionId}``: any UUID is a connection of the one workspace."""
        self._authorize(request)
        connection_id = request.match_info["connection_id"]
        if not UUID.fullmatch(connection_id):
            raise bad_request(f"connectionId must be a UUID, got {connection_id!r}.")
        return web.json_response(connection_json(connection_id))

    async def timeline_page(self, request: web.Request) -> web.Response:
        """The web app's connection timeline: each job of the connection, newest first, with its state."""
        workspace, connection_id = request.match_info["workspace_id"], request.match_info["connection_id"]
        if workspace != WORKSPACE_ID or not UUID.fullmatch(connection_id):
            return not_found_page("Airbyte", f"connection {connection_id} in workspace {workspace}")
        jobs = [job for job in self._store.jobs(API) if job.attrs["connectionId"] == connection_id]
        rows = [(f"job {job.job_id}", f"{job.attrs['jobType']}: {self._status(job)}") for job in reversed(jobs)]
        if jobs:
            rows.insert(0, ("state", self._status(jobs[-1])))
        return html_page("Airbyte", f"Connection {connection_id} timeline", rows or [("jobs", "none yet")])

    @problems
    async def list_jobs(self, request: web.Request) -> web.Response:
        """``GET /v1/jobs``: filters, ``orderBy`` (default ``createdAt|ASC``), and limit/offset pages."""
        self._authorize(request)
        query = request.query
        limit = _integer(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _integer(query, "offset", 0, 0, None)
        order = query.get("orderBy", "createdAt|ASC")
        if not ORDER_BY.fullmatch(order):
            raise bad_request(f"orderBy must read '<createdAt|updatedAt>|<ASC|DESC>', got {order!r}.")
        wanted = _filters(query)
        selected = [job for job in self._store.jobs(API) if self._matches(job, wanted)]
        field, _, direction = order.partition("|")
        moment = "created_at" if field == "createdAt" else "updated_at"
        selected.sort(key=lambda job: getattr(self._store.observe(job), moment), reverse=direction == "DESC")
        answer: dict[str, Any] = {"data": [self._json(job) for job in selected[offset : offset + limit]]}
        if offset + limit < len(selected):
            answer["next"] = str(request.url.update_query(limit=limit, offset=offset + limit))
        if offset > 0:
            answer["previous"] = str(request.url.update_query(limit=limit, offset=max(0, offset - limit)))
        return web.json_response(answer)

    def _matches(self, job: StoredJob, wanted: dict[str, Any]) -> bool:
        for name in ("connectionId", "jobType"):
            if name in wanted and job.attrs[name] != wanted[name]:
                return False
        if "status" in wanted and self._status(job) != wanted["status"]:
            return False
        snap = self._store.observe(job)
        moments = {"created": snap.created_at, "updated": snap.updated_at}
        for name, (which, sign) in DATE_FILTERS.items():
            if name in wanted and (moments[which] - wanted[name]) * sign < 0:
                return False
        return True


def _filters(query: Any) -> dict[str, Any]:
    """The list filters of a query string, checked; workspaces are accepted and ignored (one workspace)."""
    wanted: dict[str, Any] = {}
    if "connectionId" in query:
        if not UUID.fullmatch(query["connectionId"]):
            raise bad_request(f"connectionId must be a UUID, got {query['connectionId']!r}.")
        wanted["connectionId"] = query["connectionId"]
    if "jobType" in query:
        if query["jobType"] not in JOB_TYPES:
            raise bad_request(f"jobType must be one of {', '.join(JOB_TYPES)}, got {query['jobType']!r}.")
        wanted["jobType"] = query["jobType"]
    if "status" in query:
        if query["status"] not in JOB_STATUSES:
            raise bad_request(f"status must be one of {', '.join(JOB_STATUSES)}, got {query['status']!r}.")
        wanted["status"] = query["status"]
    for workspace in query.getall("workspaceIds", []):
        if not UUID.fullmatch(workspace):
            raise bad_request(f"workspaceIds must be UUIDs, got {workspace!r}.")
    for name in DATE_FILTERS:
        if name in query:
            wanted[name] = _moment(name, query[name])
    return wanted


def _integer(query: Any, name: str, default: int, low: int, high: int | None) -> int:
    bounds = f"between {low} and {high}" if high is not None else f">= {low}"
    number = query_number(
        query, name, low, high, lambda text: bad_request(f"{name} must be an integer {bounds}, got {text!r}.")
    )
    return default if number is None else number


def _moment(name: str, text: str) -> float:
    """An ISO 8601 date-time, or epoch milliseconds as in the spec's examples, as epoch seconds."""
    if text.isdigit():
        return int(text) / 1000
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise bad_request(f"{name} must be an ISO 8601 date-time, got {text!r}.") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


TOKENS_KEY = web.AppKey("airbyte_tokens", TokenBook)
"""Where register() leaves the access tokens, for their control route (emulator/control/airbyte.py)."""


def register(app: web.Application, store: JobStore, token: str) -> None:
    """Add the Airbyte routes to ``app`` and its states to ``store``."""
    store.register_api(API, STATES)
    register_shape(app, API, lambda status, message: Problem(status, "bad-request", message).response())
    handlers = AirbyteEmulator(store, token)
    store.register_maker(API, handlers.bulk_job)
    router = app.router
    router.add_post("/v1/applications/token", handlers.issue_token, name=route_name(API, "token"))
    jobs = router.add_resource("/v1/jobs", name=route_name(API, "jobs"))
    jobs.add_route("GET", handlers.list_jobs)
    jobs.add_route("POST", handlers.create_job)
    job = router.add_resource("/v1/jobs/{job_id}", name=route_name(API, "job"))
    job.add_route("GET", handlers.get_job)
    job.add_route("DELETE", handlers.cancel_job)
    router.add_post("/api/v1/jobs/get", handlers.config_job, name=route_name(API, "config_job"))
    router.add_get("/v1/connections/{connection_id}", handlers.get_connection, name=route_name(API, "connection"))
    timeline = "/workspaces/{workspace_id}/connections/{connection_id}/timeline"
    router.add_get(timeline, handlers.timeline_page, name=route_name(API, "timeline"))
    app[TOKENS_KEY] = handlers.tokens
