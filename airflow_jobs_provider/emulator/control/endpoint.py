"""The control endpoint under ``/_emulator/``: script jobs, inspect them, and read the access log.

Tests and demos drive the emulator only through this HTTP surface (never by reaching into the
store), so the same calls work in-process, against the CLI, or from another machine. It has no
auth: the emulator is a local tool. Errors are ``{"error": "..."}`` with 400 or 404.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from aiohttp import web

from airflow_jobs_provider.emulator.core.access_log import AccessLog
from airflow_jobs_provider.emulator.core.errors import JsonError
from airflow_jobs_provider.emulator.core.http_util import iso_z, json_object
from airflow_jobs_provider.emulator.core.lifecycle import Phase
from airflow_jobs_provider.emulator.core.script import Script, ScriptError, parse_script, script_json
from airflow_jobs_provider.emulator.core.store import JobStore, StoredJob

PREFIX = "/_emulator"
MAX_BULK = 10_000
BULK_FIELDS = frozenset({"count", "spec", "ends_in", "spread", "duration", "outcome", "error"})


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

    async def create_many(self, request: web.Request) -> web.Response:
        """``count`` jobs of one API at once, from one start spec, ending at chosen times.

        Body: ``count``, ``spec`` (what the API's start call takes), ``ends_in`` (seconds from now
        to the first end; negative = ended that long ago), ``spread`` (seconds over which the ends
        are spread, evenly), ``duration`` (seconds each works at least, default 1: a job that ends
        later than that is created now and works until its end), ``outcome``, ``error``.
        """
        api = self._api(request.match_info["api"])
        body = await self._body(request)
        unknown = sorted(set(body) - BULK_FIELDS)
        if unknown:
            allowed = ", ".join(sorted(BULK_FIELDS))
            raise control_error(400, f"unknown field(s) {', '.join(unknown)}; allowed: {allowed}")
        count = body.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BULK:
            raise control_error(400, f"field 'count' must be a whole number 1..{MAX_BULK}, got {count!r}")
        spec = body.get("spec", {})
        if not isinstance(spec, dict):
            raise control_error(400, "field 'spec' must be an object: what the API's start call takes")
        ends_in, spread = _number(body, "ends_in", 0.0, None), _number(body, "spread", 0.0, 0.0)
        script_fields = {"queue_seconds": 0, "duration": body.get("duration", 1.0)}
        script_fields.update({key: body[key] for key in ("outcome", "error") if key in body})
        try:
            script, _ = parse_script(script_fields, self._store.defaults(api), allow_times=False)
        except ScriptError as error:
            raise control_error(400, str(error)) from None
        maker = self._store.maker(api)
        if maker is None:
            raise control_error(400, f"the {api} API cannot create jobs in bulk")
        now, ids = self._store.now(), []
        for number in range(count):
            try:
                job_id, kind, attrs = maker(spec)
            except ValueError as error:
                raise control_error(400, f"spec: {error}") from None
            end = now + ends_in + (spread * number / (count - 1) if count > 1 else 0.0)
            created = min(now, end - script.duration)  # a job that ends later is created now and works longer
            job_script = replace(script, duration=end - created)
            self._store.create_scripted(api, job_id, kind, attrs, created, job_script)
            ids.append(job_id)
        return web.json_response({"api": api, "count": count, "ids": ids})

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

    async def clock(self, request: web.Request) -> web.Response:
        """``{"offset_seconds": s}``: the APIs' clock runs ``s`` ahead of the machine's (behind when negative)."""
        if request.method == "POST":
            offset = (await self._body(request)).get("offset_seconds")
            if isinstance(offset, bool) or not isinstance(offset, (int, float)) or abs(offset) > 86_400 * 30:
                raise control_error(
                    400, f"field 'offset_seconds' must be a number of seconds (|s| <= 30 days), got {offset!r}"
                )
            self._store.set_clock_offset(offset)
        return web.json_response({"offset_seconds": self._store.clock_offset, "now": iso_z(self._store.now())})

    async def requests(self, request: web.Request) -> web.Response:
        return web.json_response([entry.to_json() for entry in self._log.entries()])


def _number(body: dict[str, Any], name: str, default: float, low: float | None) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (low is not None and value < low):
        bounds = f" >= {low:g}" if low is not None else ""
        raise control_error(400, f"field {name!r} must be a number of seconds{bounds}, got {value!r}")
    return float(value)


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
    router.add_post(f"{PREFIX}/jobs/{{api}}", handlers.create_many)
    router.add_post(f"{PREFIX}/jobs/{{api}}/{{job_id}}/state", handlers.force_state)
    router.add_post(f"{PREFIX}/jobs/{{api}}/{{job_id}}/expire", handlers.expire)
    router.add_get(f"{PREFIX}/requests", handlers.requests)
    router.add_get(f"{PREFIX}/clock", handlers.clock)
    router.add_post(f"{PREFIX}/clock", handlers.clock)
