"""The Keboola Queue API (job-apis.md §2): create, detail, kill and search jobs.

Auth is the ``X-StorageApi-Token`` header; every error has Keboola's body
``{"error", "code", "status": "error", "exceptionId", "context"}``. A job joins a parent run
through the ``X-KBC-RunId`` header. Kill follows the queue daemon's rule: a job that has not
started ends ``cancelled`` at once, a processing one goes ``terminating`` then ``terminated``.
Killing a finished job is a 400 here; the real answer is unverified.

The configuration lock (job-apis.md §2.2): a job of a stored configuration (component, config,
branch) created while another job of it has not finished is created, then ``waiting`` until that
one finishes; its own queue time and work start then.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from airflow_jobs_provider.emulator.core.access_log import route_name
from airflow_jobs_provider.emulator.core.auth import same_secret
from airflow_jobs_provider.emulator.core.errors import JsonError
from airflow_jobs_provider.emulator.core.http_util import base_url, json_object
from airflow_jobs_provider.emulator.core.lifecycle import Snapshot, as_created, held
from airflow_jobs_provider.emulator.core.pages import html_page, not_found_page
from airflow_jobs_provider.emulator.core.store import JobStore, StoredJob
from airflow_jobs_provider.emulator.keboola.lineage import lineage_events
from airflow_jobs_provider.emulator.keboola.search import SearchError, parse_search
from airflow_jobs_provider.emulator.keboola.shapes import (
    API,
    PROJECT,
    STATES,
    WAITING,
    is_finished,
    job_json,
    status_of,
)

FIRST_JOB_ID = 900000001
MODES = ("run", "forceRun", "debug")
CREATE_FIELDS = frozenset(
    {
        "component", "mode", "config", "configData", "configRowIds", "tag", "branchId", "variableValuesId",
        "variableValuesData", "backend", "executor", "delayedStartTime", "delay", "parallelism",
        "orchestrationJobId", "parentRunId",
    }
)  # fmt: skip
LOCKED_BEHIND = "locked_behind"
"""attrs key: the job this one waits behind (the configuration lock)."""
KEPT_FIELDS = ("config", "configData", "tag", "branchId", "variableValuesId", "variableValuesData", "backend")


def keboola_error(status: int, message: str) -> JsonError:
    """Keboola's error body (api-error-control): ``context`` is ``[]`` when it holds nothing."""
    body = {"error": message, "code": status, "status": "error", "exceptionId": f"job-queue-{uuid.uuid4().hex[:16]}"}
    return JsonError(status, {**body, "context": []})


def _creation_attrs(body: Mapping[str, Any], parent: str) -> dict[str, Any]:
    """Check a create body the way the queue does, and keep what the job object shows."""
    unknown = sorted(set(body) - CREATE_FIELDS)
    if unknown:
        raise keboola_error(400, f"Unrecognized option(s) {', '.join(unknown)} in the job definition")
    component = body.get("component")
    if not isinstance(component, str) or not component:
        raise keboola_error(400, 'The "component" field is required and must be a non-empty string')
    mode = body.get("mode", "run")
    if mode not in MODES:
        raise keboola_error(400, f'Invalid mode "{mode}": allowed values are {", ".join(MODES)}')
    if "config" in body and not isinstance(body["config"], str):
        raise keboola_error(400, 'The "config" field must be a string')
    if "configData" in body and not isinstance(body["configData"], (dict, list)):
        raise keboola_error(400, 'The "configData" field must be an object')
    rows = body.get("configRowIds") or []
    if not isinstance(rows, list) or not all(isinstance(row, str) for row in rows):
        raise keboola_error(400, 'The "configRowIds" field must be an array of strings')
    if "delay" in body and "delayedStartTime" in body:
        raise keboola_error(400, "delay and delayedStartTime cannot be used together")
    attrs = {key: body[key] for key in KEPT_FIELDS if key in body}
    parallelism = body.get("parallelism")
    return {
        **attrs,
        "component": component,
        "mode": mode,
        "configRowIds": rows,
        "parentRunId": parent,
        "parallelism": None if parallelism is None else str(parallelism),
    }


class KeboolaApi:
    """Handlers for the Queue API routes, sharing the app's job store and token."""

    def __init__(self, store: JobStore, token: str) -> None:
        self._store = store
        self._token = token
        self._ids = itertools.count(FIRST_JOB_ID)

    def _authorize(self, request: web.Request) -> None:
        if not same_secret(request.headers.get("X-StorageApi-Token"), self._token):
            raise keboola_error(401, "Invalid access token")

    def _job(self, request: web.Request) -> StoredJob:
        job_id = request.match_info["job_id"]
        job = self._store.get(API, job_id)
        if job is None:
            raise keboola_error(404, f'Job "{job_id}" not found')
        return job

    def _json(self, request: web.Request, job: StoredJob) -> dict[str, Any]:
        return job_json(job, self._observe(job), base_url(request), self._store.now())

    def _observe(self, job: StoredJob, depth: int = 0) -> Snapshot:
        """The job's state, ``waiting`` while the job it is locked behind has not finished."""
        facts = job.facts
        holder_id = job.attrs.get(LOCKED_BEHIND)
        if holder_id and facts.start_after is None and facts.cancel_at is None and facts.forced_status is None:
            holder = self._store.get(API, holder_id, include_expired=True)
            if holder is not None and depth < 50:
                before = self._observe(holder, depth + 1)
                if not is_finished(holder, status_of(holder, before)):
                    return held(facts, WAITING)
                facts.start_after = max(before.updated_at, facts.created)
        return self._store.observe(job)

    def _lock_holder(self, attrs: dict[str, Any]) -> str | None:
        """The newest unfinished job of the same stored configuration, which a new one waits behind."""
        if attrs.get("config") is None or attrs.get("configData"):
            return None
        for other in reversed(self._store.jobs(API)):
            same = all(other.attrs.get(key) == attrs.get(key) for key in ("component", "config", "branchId"))
            if same and not is_finished(other, status_of(other, self._observe(other))):
                return other.job_id
        return None

    async def create_job(self, request: web.Request) -> web.Response:
        self._authorize(request)
        body = await json_object(request)
        if body is None:
            raise keboola_error(400, "Request body must be a JSON object")
        parent = request.headers.get("X-KBC-RunId", "") or str(body.get("parentRunId") or "")
        attrs = _creation_attrs(body, parent)
        job_id = str(next(self._ids))
        attrs["runId"] = f"{parent}.{job_id}" if parent else job_id
        attrs[LOCKED_BEHIND] = self._lock_holder(attrs)
        job = self._store.create(API, job_id, "job", attrs)
        created = job_json(job, as_created(job.facts, STATES), base_url(request), self._store.now())
        return web.json_response(created, status=201)

    def bulk_job(self, spec: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """A job as ``POST /jobs`` would make it from ``spec`` (``/_emulator/jobs/keboola``)."""
        try:
            attrs = _creation_attrs(spec, "")
        except JsonError as error:
            raise ValueError(error.body["error"]) from None
        job_id = str(next(self._ids))
        return job_id, "job", {**attrs, "runId": job_id}

    async def get_job(self, request: web.Request) -> web.Response:
        self._authorize(request)
        job = self._job(request)
        self._store.count_get(job)
        return web.json_response(self._json(request, job))

    async def job_lineage(self, request: web.Request) -> web.Response:
        """``GET /jobs/{jobId}/open-api-lineage``: the OpenLineage events of the job (emulator/keboola/lineage.py)."""
        self._authorize(request)
        job = self._job(request)
        return web.json_response(lineage_events(job, self._store.observe(job), request.host))

    async def job_page(self, request: web.Request) -> web.Response:
        """The UI's job page, ``/admin/projects/{projectId}[/branch/{branchId}]/queue/{jobId}``."""
        job = self._store.get(API, request.match_info["job_id"])
        if job is None or request.match_info["project"] != PROJECT["id"]:
            return not_found_page("Keboola", f"job {request.match_info['job_id']}")
        body = self._json(request, job)
        rows = [("state", body["status"]), ("component", body["component"]), ("configuration", body["config"]),
                ("run", body["runId"]), ("created", body["createdTime"]), ("ended", body["endTime"])]
        return html_page("Keboola", f"Job {job.job_id}", rows)

    async def kill_job(self, request: web.Request) -> web.Response:
        """Not started → ``cancelled`` now; processing → ``terminating``; repeats are harmless."""
        self._authorize(request)
        job = self._job(request)
        status = status_of(job, self._observe(job))
        if is_finished(job, status):
            raise keboola_error(400, f'Job "{job.job_id}" is already finished (status "{status}") and cannot be killed')
        self._store.cancel(job, immediate=status in (STATES.queued, WAITING))
        return web.json_response(self._json(request, job), status=202)

    async def search_jobs(self, request: web.Request) -> web.Response:
        self._authorize(request)
        try:
            search = parse_search(request.query)
        except SearchError as error:
            raise keboola_error(400, str(error)) from None
        ids = search.values.get("id")
        if ids is not None:  # look the ids up: a batch poll of 100 ids must not render all 10,000 jobs
            stored = [job for job_id in ids if (job := self._store.get(API, job_id)) is not None]
        else:
            stored = self._store.jobs(API)
        jobs = [self._json(request, job) for job in stored]
        return web.json_response(search.run(jobs))


def register(app: web.Application, store: JobStore, token: str) -> None:
    """Add the Queue API routes to ``app`` and its states to ``store``."""
    store.register_api(API, STATES)
    handlers = KeboolaApi(store, token)
    store.register_maker(API, handlers.bulk_job)
    router = app.router
    router.add_post("/jobs", handlers.create_job, name=route_name(API, "create"))
    router.add_get("/jobs/{job_id}", handlers.get_job, name=route_name(API, "job"))
    router.add_post("/jobs/{job_id}/kill", handlers.kill_job, name=route_name(API, "kill"))
    router.add_get("/jobs/{job_id}/open-api-lineage", handlers.job_lineage, name=route_name(API, "lineage"))
    router.add_get("/admin/projects/{project}/queue/{job_id}", handlers.job_page, name=route_name(API, "page"))
    branch_page = "/admin/projects/{project}/branch/{branch}/queue/{job_id}"
    router.add_get(branch_page, handlers.job_page, name=route_name(API, "branch_page"))
    router.add_get("/search/jobs", handlers.search_jobs, name=route_name(API, "search"))

