"""Acme Batch API: a made-up but ordinary jobs REST API, the stand-in for "any other jobs API".

It exists so the declarative REST adapter is tested against an API that differs from Tinybird
in every dimension an adapter must configure: an API-key header, 401 instead of 403, 201 on
create, a ``{"run": ...}`` envelope, upper-case states, an integer progress, 202/409 on abort.
The run list filters by ``state``, ``task`` and ``created_after`` (ISO 8601, inclusive), and it
pages the way many REST APIs do: latest update first, ``limit`` (at most ``MAX_LIMIT``; without
it, every run) and ``offset``, and ``updated_after`` (ISO 8601) for the runs updated since a time:
what the declarative REST adapter's ``list_*`` extras describe. ``id`` (repeated, at most ``MAX_IDS``)
keeps the runs of those ids: the many-ids read of its ``batch_*`` extras.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from airflow_jobs_provider.emulator.core.access_log import route_name
from airflow_jobs_provider.emulator.core.auth import same_secret
from airflow_jobs_provider.emulator.core.errors import JsonError, register_shape
from airflow_jobs_provider.emulator.core.http_util import base_url, iso_z, json_object, query_number
from airflow_jobs_provider.emulator.core.lifecycle import Phase, Snapshot, StateNames, as_created
from airflow_jobs_provider.emulator.core.pages import html_page, not_found_page
from airflow_jobs_provider.emulator.core.store import JobStore, StoredJob

API = "acme"
STATES = StateNames(
    queued="QUEUED",
    working="RUNNING",
    cancelling="ABORTING",
    succeeded="SUCCEEDED",
    failed="FAILED",
    cancelled="ABORTED",
)
KIND = "run"
MAX_LIMIT = 100
MAX_IDS = 100
"""``id`` may repeat (``?id=a&id=b``): the runs of those ids, at most this many per request."""


def acme_error(status: int, message: str) -> JsonError:
    return JsonError(status, {"message": message})


def run_json(job: StoredJob, snap: Snapshot, base: str) -> dict[str, Any]:
    """A run; ``inputs``/``outputs`` and ``ui_link`` echo the create body, so that a test can give a
    run datasets, or a page URL of its choosing (a hostile one, to test what clients do with it)."""
    body = job.attrs.get("body") or {}
    ui = body.get("ui_link") if "ui_link" in body else f"{base}/acme/ui/runs/{job.job_id}"
    return {
        "id": job.job_id,
        "task": job.attrs["task"],
        "state": snap.raw_status,
        "progress": round(snap.progress),
        "error": snap.error,
        "created": iso_z(snap.created_at),
        "updated": iso_z(snap.updated_at),
        "inputs": body.get("inputs") or [],
        "outputs": body.get("outputs") or [],
        "links": {"self": f"{base}/acme/v2/runs/{job.job_id}", "ui": ui},
    }


def run_log(job: StoredJob, snap: Snapshot) -> list[dict[str, Any]]:
    """The run's log so far, oldest first: queued, started, each quarter of the work, the end."""
    entries = [(snap.created_at, "INFO", f"run {job.job_id} queued ({job.attrs['task']})")]
    if snap.started_at is not None:
        entries.append((snap.started_at, "INFO", "run started"))
        duration = job.facts.script.duration
        steps = range(25, round(snap.progress), 25)
        entries += [(snap.started_at + duration * step / 100, "INFO", f"{step}% done") for step in steps]
    if snap.phase is Phase.FINISHED:
        level = {STATES.succeeded: "INFO", STATES.failed: "ERROR"}.get(snap.raw_status, "WARN")
        ended = f"run ended {snap.raw_status}" + (f": {snap.error}" if snap.error else "")
        entries.append((snap.updated_at, level, ended))
    return [{"at": iso_z(at), "level": level, "message": message} for at, level, message in entries]


class AcmeApi:
    """Handlers for the Acme routes, sharing the app's job store and API key."""

    def __init__(self, store: JobStore, token: str) -> None:
        self._store = store
        self._token = token

    def _authorize(self, request: web.Request) -> None:
        if not same_secret(request.headers.get("X-Api-Key"), self._token):
            raise acme_error(401, "invalid API key")

    def _run(self, request: web.Request) -> StoredJob:
        run_id = request.match_info["run_id"]
        job = self._store.get(API, run_id)
        if job is None:
            raise acme_error(404, f"run {run_id} not found")
        return job

    def _answer(self, request: web.Request, job: StoredJob, snap: Snapshot, status: int = 200) -> web.Response:
        return web.json_response({"run": run_json(job, snap, base_url(request))}, status=status)

    async def create_run(self, request: web.Request) -> web.Response:
        self._authorize(request)
        body = await json_object(request)
        if body is None:
            raise acme_error(422, "body must be a JSON object")
        if not isinstance(body.get("task"), str) or not body["task"]:
            raise acme_error(422, "task is required")
        job = self._store.create(API, f"run-{uuid.uuid4().hex[:12]}", KIND, {"task": body["task"], "body": body})
        return self._answer(request, job, as_created(job.facts, STATES), status=201)

    def bulk_job(self, spec: Any) -> tuple[str, str, dict[str, Any]]:
        """A run of a task (``/_emulator/jobs/acme``)."""
        if not isinstance(spec.get("task"), str) or not spec["task"]:
            raise ValueError("acme bulk jobs take {'task': '<task name>'}")
        return f"run-{uuid.uuid4().hex[:12]}", KIND, {"task": spec["task"], "body": dict(spec)}

    async def get_run(self, request: web.Request) -> web.Response:
        self._authorize(request)
        job = self._run(request)
        self._store.count_get(job)
        return self._answer(request, job, self._store.observe(job))

    async def abort_run(self, request: web.Request) -> web.Response:
        """Queued runs abort at once, running ones go through ABORTING; repeats are harmless."""
        self._authorize(request)
        job = self._run(request)
        snap = self._store.observe(job)
        if snap.phase is Phase.FINISHED:
            raise acme_error(409, "run is already finished")
        snap = self._store.cancel(job, immediate=snap.phase is Phase.QUEUED)
        return self._answer(request, job, snap, status=202)

    async def get_log(self, request: web.Request) -> web.Response:
        """``GET /acme/v2/runs/{id}/log``: ``{"entries": [{"at", "level", "message"}]}``, oldest first."""
        self._authorize(request)
        job = self._run(request)
        return web.json_response({"entries": run_log(job, self._store.observe(job))})

    async def run_page(self, request: web.Request) -> web.Response:
        """``links.ui``: the run's page in Acme's (pretend) web UI."""
        job = self._store.get(API, request.match_info["run_id"])
        if job is None:
            return not_found_page("Acme Batch", f"run {request.match_info['run_id']}")
        snap = self._store.observe(job)
        rows = [("state", snap.raw_status), ("task", job.attrs["task"]), ("progress", f"{round(snap.progress)}%"),
                ("error", snap.error or "")]
        return html_page("Acme Batch", f"Run {job.job_id}", rows)

    async def list_runs(self, request: web.Request) -> web.Response:
        self._authorize(request)
        query = request.query
        state, task = query.get("state"), query.get("task")
        limit = _count(query, "limit", 1, MAX_LIMIT)
        offset = _count(query, "offset", 0, None) or 0
        after = _moment(query, "updated_after")
        created_after = _moment(query, "created_after")
        ids = set(query.getall("id", []))
        if len(ids) > MAX_IDS:
            raise acme_error(422, f"at most {MAX_IDS} id parameters per request, got {len(ids)}")
        found = []
        for job in reversed(self._store.jobs(API)):  # newest first among runs updated at the same time
            if ids and job.job_id not in ids:
                continue
            snap = self._store.observe(job)
            wanted = (state is None or snap.raw_status == state) and (task is None or job.attrs["task"] == task)
            if created_after is not None and snap.created_at < created_after:
                continue
            if wanted and (after is None or snap.updated_at >= after):
                found.append((snap.updated_at, run_json(job, snap, base_url(request))))
        found.sort(key=lambda pair: pair[0], reverse=True)
        runs = [run for _, run in found]
        return web.json_response({"runs": runs[offset : offset + limit] if limit is not None else runs[offset:]})


def _count(query: Any, name: str, low: int, high: int | None) -> int | None:
    bounds = f"{low}..{high}" if high is not None else f">= {low}"
    return query_number(
        query, name, low, high, lambda text: acme_error(422, f"{name} must be a whole number {bounds}, got {text!r}")
    )


def _moment(query: Any, name: str) -> float | None:
    text = query.get(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise acme_error(422, f"{name} must be an ISO 8601 time, got {text!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def register(app: web.Application, store: JobStore, token: str) -> None:
    """Add the Acme routes to ``app`` and its states to ``store``."""
    store.register_api(API, STATES)
    register_shape(app, API, acme_error)
    handlers = AcmeApi(store, token)
    store.register_maker(API, handlers.bulk_job)
    runs = app.router.add_resource("/acme/v2/runs", name=route_name(API, "runs"))
    runs.add_route("GET", handlers.list_runs)
    runs.add_route("POST", handlers.create_run)
    app.router.add_get("/acme/v2/runs/{run_id}", handlers.get_run, name=route_name(API, "run"))
    app.router.add_post("/acme/v2/runs/{run_id}/abort", handlers.abort_run, name=route_name(API, "abort"))
    app.router.add_get("/acme/v2/runs/{run_id}/log", handlers.get_log, name=route_name(API, "log"))
    app.router.add_get("/acme/ui/runs/{run_id}", handlers.run_page, name=route_name(API, "page"))
