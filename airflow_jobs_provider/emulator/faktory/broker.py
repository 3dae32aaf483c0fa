"""The emulated Faktory's memory: queues, jobs and their tracking records, with no sockets.

Every change a worker can make (FETCH, ACK, FAIL, TRACK SET) is one method here, so TCP workers
(pyfaktory, ...) and the built-in worker move jobs by the same rules. Each job is also a
StoredJob of api ``faktory`` in the shared JobStore: the control endpoint scripts, lists, forces
and expires it like any other job, and the stored job's forced state mirrors the Faktory state.

Simplifications, documented so tests do not rely on more: a failed job is retried after its
script's ``queue_seconds`` but at least RETRY_DELAY (not Faktory's back-off); ``retry`` 0 or -1
sends the first failure to the Dead set; reservations (``reserve_for``) never time out; a job
scheduled with ``at`` reports ``enqueued`` until it is fetched.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airflow_jobs_provider.emulator.core.http_util import iso_z
from airflow_jobs_provider.emulator.core.lifecycle import StateNames
from airflow_jobs_provider.emulator.core.script import BUILT_IN_SCRIPT
from airflow_jobs_provider.emulator.core.store import JobStore, StoredJob

API = "faktory"
STATES = StateNames(
    queued="enqueued",
    working="working",
    cancelling="working",  # Faktory cannot cancel: a "cancelled" script ends dead
    succeeded="success",
    failed="dead",
    cancelled="dead",
)
FINAL_STATES = frozenset({"success", "dead"})
DEFAULT_TRACK_TTL = 1800.0
"""Faktory keeps a finished job's tracking record for 30 minutes."""
ENTERPRISE_ONLY = "tracking subsystem is only available in Faktory Enterprise"
VERSION = "1.9.0 (jobs-emulator)"
RETRY_DELAY = 0.5
"""Shortest wait before a failed job is retried, so that watchers can see ``failed`` between attempts."""


class FaktoryError(Exception):
    """Answered to the client as ``-<code> <message>``."""

    def __init__(self, message: str, code: str = "ERR") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class FaktoryJob:
    """One pushed job: the work unit a worker fetches, and what tracking reports about it."""

    stored: StoredJob
    work: dict[str, Any]
    tracked: bool
    ready_at: float
    state: str = "enqueued"
    updated_at: float = 0.0
    percent: float | None = None
    desc: str | None = None
    failures: int = 0
    retry_at: float | None = None
    ended_at: float | None = None
    worker: str | None = None
    mirrored_at: float | None = None

    @property
    def jid(self) -> str:
        return str(self.work["jid"])

    @property
    def queue(self) -> str:
        return str(self.work.get("queue") or "default")

    @property
    def scripted(self) -> bool:
        """Scripted through the control endpoint (a queued script or changed defaults)."""
        return self.stored.facts.script is not BUILT_IN_SCRIPT


class Broker:
    """Queues and jobs of one emulated Faktory server."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        self.enterprise = True
        self.track_ttl = DEFAULT_TRACK_TTL
        self.started = time.time()
        self.commands = 0
        self.connections = 0
        self._jobs: dict[str, FaktoryJob] = {}

    def reset_settings(self) -> None:
        self.enterprise, self.track_ttl = True, DEFAULT_TRACK_TTL

    # --- producer ---------------------------------------------------------------------

    def push(self, work: Any) -> FaktoryJob:
        if not isinstance(work, dict):
            raise FaktoryError("invalid JSON: a job must be an object")
        jid = work.get("jid")
        if not isinstance(jid, str) or len(jid) < 8:
            raise FaktoryError("jobs must have a reasonable jid parameter")
        if not isinstance(work.get("jobtype"), str) or not work["jobtype"]:
            raise FaktoryError("jobs must have a jobtype parameter")
        if not isinstance(work.get("args"), list):
            raise FaktoryError("jobs must have an args parameter")
        now = self.store.now()
        work = {"queue": "default", "retry": 25, "reserve_for": 1800, **work}
        work.setdefault("created_at", iso_z(now))
        work["enqueued_at"] = iso_z(now)
        custom = work.get("custom")
        tracked = isinstance(custom, Mapping) and custom.get("track") in (1, True)
        attrs = {"jobtype": work["jobtype"], "queue": work["queue"], "args": work["args"], "tracked": tracked}
        stored = self.store.create(API, jid, "job", attrs)
        job = FaktoryJob(stored, work, tracked, ready_at=max(now, _epoch(work.get("at")) or now), updated_at=now)
        self._jobs[jid] = job
        self._mirror(job)
        return job

    # --- consumer ---------------------------------------------------------------------

    def fetch(self, queues: list[str], worker: str) -> dict[str, Any] | None:
        """The oldest ready job of the first queue that has one, now reserved by ``worker``."""
        now = self.store.now()
        for queue in queues or ["default"]:
            ready = [job for job in self._live_jobs() if job.queue == queue and self._ready(job, now)]
            if ready:
                job = min(ready, key=lambda candidate: candidate.ready_at)
                self._start(job, worker, now)
                return dict(job.work)
        return None

    def take(self, jid: str, worker: str) -> bool:
        """Reserve one given job if it is ready (the built-in worker); False if someone else has it."""
        job = self._live(jid)
        now = self.store.now()
        if job is None or not self._ready(job, now):
            return False
        self._start(job, worker, now)
        return True

    def ack(self, jid: str) -> None:
        job = self._working(jid)
        self._finish(job, "success")

    def fail(self, jid: str, errtype: str, message: str) -> str:
        """Record a failed attempt: ``failed`` with a retry scheduled, or ``dead`` when retries are used up."""
        job = self._working(jid)
        now = self.store.now()
        job.failures += 1
        retry = job.work.get("retry", 25)
        retry = retry if isinstance(retry, int) and not isinstance(retry, bool) else 25
        job.work["failure"] = {
            "retry_count": job.failures - 1,
            "remaining": max(0, retry - job.failures),
            "failed_at": iso_z(now),
            "message": message,
            "errtype": errtype,
        }
        if retry <= 0 or job.failures > retry:
            self._finish(job, "dead")
        else:
            job.retry_at = now + max(RETRY_DELAY, job.stored.facts.script.queue_seconds)
            job.work["failure"]["next_at"] = iso_z(job.retry_at)
            self._set(job, "failed", now)
        return job.state

    def finish_raw(self, jid: str, raw_state: str) -> None:
        """End a scripted job in any raw state (``unknown``, ...), as a script's outcome says."""
        job = self._working(jid)
        self._finish(job, raw_state)

    def track_set(self, update: Any) -> None:
        if not isinstance(update, dict) or not isinstance(update.get("jid"), str):
            raise FaktoryError("TRACK SET needs a JSON object with a jid")
        job = self._live(update["jid"])
        if job is None or not job.tracked:
            return
        if "percent" in update:
            job.percent = update["percent"] if isinstance(update["percent"], (int, float)) else None
        if "desc" in update:
            job.desc = update["desc"] if isinstance(update["desc"], str) else None

    # --- tracking ---------------------------------------------------------------------

    def track_get(self, jid: str) -> dict[str, Any]:
        """What TRACK GET answers: ``unknown`` for an unknown, untracked or expired job."""
        job = self._live(jid)
        unknown = {"jid": jid, "state": "unknown"}
        if job is None or not job.tracked or job.stored.expired:
            return unknown
        now = self.store.now()
        if job.ended_at is not None and now >= job.ended_at + self.track_ttl:
            self.store.expire(job.stored)
            return unknown
        facts = job.stored.facts
        forced = facts.forced_status if facts.forced_at is not None and facts.forced_at != job.mirrored_at else None
        state = forced or self._current_state(job, now)
        track: dict[str, Any] = {"jid": jid, "state": state, "updated_at": iso_z(job.updated_at)}
        if job.percent:  # Faktory's Go struct omits a zero percent
            track["percent"] = job.percent
        if job.desc:
            track["desc"] = job.desc
        return track

    def info(self) -> dict[str, Any]:
        now = self.store.now()
        jobs = self._live_jobs()
        queues: dict[str, int] = {}
        for job in jobs:
            if self._ready(job, now):
                queues[job.queue] = queues.get(job.queue, 0) + 1
        return {
            "now": iso_z(now),
            "server_utc_time": iso_z(now),
            "faktory": {
                "total_enqueued": sum(queues.values()),
                "total_queues": len(queues),
                "total_processed": sum(1 for job in jobs if job.state in FINAL_STATES),
                "total_failures": sum(job.failures for job in jobs),
                "queues": queues,
                "tasks": {},
            },
            "server": {
                "description": "Faktory",
                "faktory_version": VERSION,
                "uptime": int(now - self.started),
                "connections": self.connections,
                "command_count": self.commands,
                "used_memory_mb": 1,
            },
        }

    def retry_due(self, jid: str) -> float | None:
        """When a failed job goes back to its queue; None if it is not waiting for a retry."""
        job = self._live(jid)
        return job.retry_at if job is not None and job.state == "failed" else None

    # --- internals --------------------------------------------------------------------

    def _live(self, jid: str) -> FaktoryJob | None:
        """The job, unless the store forgot it (reset) or a later PUSH replaced it."""
        job = self._jobs.get(jid)
        if job is None or self.store.get(API, jid, include_expired=True) is not job.stored:
            self._jobs.pop(jid, None)
            return None
        return job

    def _live_jobs(self) -> list[FaktoryJob]:
        return [job for jid in list(self._jobs) if (job := self._live(jid)) is not None]

    def _current_state(self, job: FaktoryJob, now: float) -> str:
        return "enqueued" if job.state == "failed" and job.retry_at is not None and now >= job.retry_at else job.state

    def _ready(self, job: FaktoryJob, now: float) -> bool:
        return self._current_state(job, now) == "enqueued" and now >= job.ready_at

    def _working(self, jid: str) -> FaktoryJob:
        job = self._live(jid)
        if job is None or job.state != "working":
            raise FaktoryError(f"Job not found or not working: {jid}")
        return job

    def _start(self, job: FaktoryJob, worker: str, now: float) -> None:
        job.worker, job.retry_at = worker, None
        self._set(job, "working", now)

    def _finish(self, job: FaktoryJob, state: str) -> None:
        now = self.store.now()
        job.ended_at = now
        self._set(job, state, now)

    def _set(self, job: FaktoryJob, state: str, now: float) -> None:
        job.state, job.updated_at = state, now
        self._mirror(job)

    def _mirror(self, job: FaktoryJob) -> None:
        """Show the Faktory state in /_emulator/jobs; a later force from the control endpoint still wins."""
        self.store.force_state(job.stored, job.state)
        job.mirrored_at = job.stored.facts.forced_at


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value).timestamp()
    except ValueError:
        return None
