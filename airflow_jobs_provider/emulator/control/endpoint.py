"""The control endpoint under ``/_emulator/``: script jobs, inspect them, and read the access log.

Tests and demos drive the emulator only through this HTTP surface (never by reaching into the
store), so the same calls work in-process, against the CLI, or from another machine. It has no
auth: the emulator is a local tool. Errors are ``{"error": "..."}`` with 400 or 404.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from airflow_jobs_provider.emulator.core.access_log import AccessLog
from airflow_jobs_provider.emulator.core.errors import JsonError
from airflow_jobs_provider.emulator.core.http_util import iso_z, json_object
from airflow_jobs_provider.emulator.core.lifecycle import Phase
from airflow_jobs_provider.emulator.core.script import Script, ScriptError, parse_script, script_json
from airflow_jobs_provider.emulator.core.store import JobStore, StoredJob

PREFIX = "/_emulator"


def control_error(status: int, message: str) -> JsonError:
    return JsonError(status, {"error": message})


class ControlApi:
    """Handlers for the control routes."""

    def __init__(self, store: JobStore, log: AccessLog, also_reset: Sequence[Callable[[], None]] = ()) -> None:
        self._store = store
        self._log = log
        self._also_reset = tuple(also_reset)

    def _api(self, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise control_error(400, f"field 'api' is required: one of {', '.join(self._store.apis)}")
        if value not in self._store.apis:
            raise control_error(400, f"unknown api {value!r}; known: {', '.join(self._store.apis)}")
        return value

    async def _body(self, request: web.Request) -> dict[str, Any]:
        body = await json_object(request)
        if body is None:
            raise control_error(400, "body must be a JSON object")
        return body

    def _job(self, request: web.Request) -> StoredJob:
        api, job_id = self._api(request.match_info["api"]), request.match_info["job_id"]
        job = self._store.get(api, job_id, include_expired=True)
        if job is None:
            raise control_error(404, f"no {api} job with id {job_id!r}")
        return job

    def _job_json(self, job: StoredJob) -> dict[str, Any]:
        snap = self._store.observe(job)
        return {
            "api": job.api,
            "id": job.job_id,
            "kind": job.kind,
            "raw_status": snap.raw_status,
            "progress": snap.progress,
            "created_at": iso_z(snap.created_at),
            # creation to the last state change: for a finished job, how long it took end to end
            "duration_seconds": round(snap.updated_at - snap.created_at, 2),
            "cancel_requested": job.facts.cancel_at is not None,
            "cancelling": snap.phase is Phase.CANCELLING,
            "gets": job.gets,
            "expired": job.expired,
            "attrs": dict(job.attrs),
            "script": script_json(job.facts.script),
        }

    async def script(self, request: web.Request) -> web.Response:
        """Queue a script for the next ``times`` jobs of an API (FIFO)."""
        api, script, times = await self._parsed_script(request, allow_times=True)
        self._store.push_script(api, script, times)
        return web.json_response({"api": api, "script": script_json(script), "times": times})

    async def defaults(self, request: web.Request) -> web.Response:
        """Change the script of jobs created with no queued script; fields left out are kept."""
        api, script, _ = await self._parsed_script(request, allow_times=False)
        self._store.set_defaults(api, script)
        return web.json_response({"api": api, "script": script_json(script)})

    async def _parsed_script(self, request: web.Request, *, allow_times: bool) -> tuple[str, Script, int]:
        body = await self._body(request)
        api = self._api(body.pop("api", None))
        try:
            script, times = parse_script(body, self._store.defaults(api), allow_times=allow_times)
        except ScriptError as error:
            raise control_error(400, str(error)) from None
        return api, script, times

    async def reset(self, request: web.Request) -> web.Response:
        """Jobs, scripts, the access log, and whatever else registered to be reset (fault rules, Faktory)."""
        self._store.reset()
        self._log.clear()
        for reset in self._also_reset:
            reset()
        return web.json_response({"reset": True})

    async def jobs(self, request: web.Request) -> web.Response:
        """Every job, expired ones included, oldest first."""
        api = self._api(request.query["api"]) if "api" in request.query else None
        return web.json_response([self._job_json(job) for job in self._store.jobs(api, include_expired=True)])

    async def force_state(self, request: web.Request) -> web.Response:
        job = self._job(request)
        raw_status = (await self._body(request)).get("raw_status")
        if not isinstance(raw_status, str) or not raw_status:
            raise control_error(400, "field 'raw_status' is required and must be a non-empty string")
        self._store.force_state(job, raw_status)
        return web.json_response(self._job_json(job))

    async def expire(self, request: web.Request) -> web.Response:
        job = self._job(request)
        self._store.expire(job)
        return web.json_response(self._job_json(job))

    async def requests(self, request: web.Request) -> web.Response:
        return web.json_response([entry.to_json() for entry in self._log.entries()])


def register(
    app: web.Application, store: JobStore, log: AccessLog, also_reset: Sequence[Callable[[], None]] = ()
) -> None:
    """Add the control routes (unnamed: the access log leaves them out anyway).

    ``also_reset``: what ``POST /_emulator/reset`` clears besides the store and the access log.
    """
    handlers = ControlApi(store, log, also_reset)
    router = app.router
    router.add_post(f"{PREFIX}/script", handlers.script)
    router.add_post(f"{PREFIX}/defaults", handlers.defaults)
    router.add_post(f"{PREFIX}/reset", handlers.reset)
    router.add_get(f"{PREFIX}/jobs", handlers.jobs)
    router.add_post(f"{PREFIX}/jobs/{{api}}/{{job_id}}/state", handlers.force_state)
    router.add_post(f"{PREFIX}/jobs/{{api}}/{{job_id}}/expire", handlers.expire)
    router.add_get(f"{PREFIX}/requests", handlers.requests)
