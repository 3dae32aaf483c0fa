"""The jobs of every emulated API, the scripts waiting for new jobs, and the clock.

One store is shared by all API modules of an app, so the control endpoint can script, list,
force and expire jobs of any API the same way. Handlers run on the app's event loop while
tests talk to the control endpoint from other threads; a lock keeps each operation atomic
anyway, so the store stays correct if it is ever touched from outside the loop.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_jobs_provider.emulator.core.lifecycle import Facts, Phase, Snapshot, StateNames, observe
from airflow_jobs_provider.emulator.core.script import BUILT_IN_SCRIPT, Script


@dataclass
class StoredJob:
    """One job: who owns it, what it is, what the API was asked, and what happened to it.

    ``attrs`` holds the API-specific creation data (pipe, data source, task, ...) that only
    the owning API module knows how to render.
    """

    api: str
    job_id: str
    kind: str
    attrs: Mapping[str, Any]
    facts: Facts
    expired: bool = False
    gets: int = 0


@dataclass
class _ApiSlot:
    names: StateNames
    defaults: Script = BUILT_IN_SCRIPT
    scripts: deque[Script] = field(default_factory=deque)
    maker: JobMaker | None = None


JobMaker = Callable[[Mapping[str, Any]], tuple[str, str, Mapping[str, Any]]]
"""An API's way to make a job from its own start spec without a request: ``spec -> (job id, kind, attrs)``.
It raises ``ValueError`` with the API's own message for a spec its start call would refuse."""


class UnknownApiError(KeyError):
    """An API name no module registered; the message lists the known ones."""

    def __str__(self) -> str:
        return str(self.args[0])


class JobStore:
    """Jobs and scripts per API name, with a replaceable clock for tests."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._offset = 0.0
        self._lock = threading.RLock()
        self._apis: dict[str, _ApiSlot] = {}
        self._jobs: dict[tuple[str, str], StoredJob] = {}

    def now(self) -> float:
        """The emulated APIs' clock: ours plus the offset a test set (a server whose clock is off)."""
        return self._clock() + self._offset

    @property
    def clock_offset(self) -> float:
        return self._offset

    def set_clock_offset(self, seconds: float) -> None:
        """Run the APIs' clock ``seconds`` ahead of ours (behind when negative): every timestamp and
        ``Date`` header follows. Set it before creating jobs; jobs made earlier would jump in time."""
        with self._lock:
            self._offset = float(seconds)

    # --- APIs and scripts -------------------------------------------------------------

    def register_api(self, api: str, names: StateNames) -> None:
        """Called once by each API module so scripts and jobs can name it."""
        with self._lock:
            if api in self._apis:
                raise ValueError(f"API {api!r} is already registered")
            self._apis[api] = _ApiSlot(names)

    def register_maker(self, api: str, maker: JobMaker) -> None:
        """How the control endpoint creates many jobs of ``api`` at once (``create_many``)."""
        with self._lock:
            self._slot(api).maker = maker

    def maker(self, api: str) -> JobMaker | None:
        with self._lock:
            return self._slot(api).maker

    @property
    def apis(self) -> list[str]:
        with self._lock:
            return sorted(self._apis)

    def _slot(self, api: str) -> _ApiSlot:
        try:
            return self._apis[api]
        except KeyError:
            raise UnknownApiError(f"unknown api {api!r}; known: {', '.join(sorted(self._apis))}") from None

    def names(self, api: str) -> StateNames:
        with self._lock:
            return self._slot(api).names

    def defaults(self, api: str) -> Script:
        with self._lock:
            return self._slot(api).defaults

    def set_defaults(self, api: str, script: Script) -> None:
        with self._lock:
            self._slot(api).defaults = script

    def push_script(self, api: str, script: Script, times: int = 1) -> None:
        """The next ``times`` jobs created on ``api`` follow ``script`` (after those queued before)."""
        with self._lock:
            self._slot(api).scripts.extend([script] * times)

    def reset(self) -> None:
        """Forget jobs and scripts; every API gets the built-in defaults back."""
        with self._lock:
            self._jobs.clear()
            self._offset = 0.0
            for slot in self._apis.values():
                slot.defaults = BUILT_IN_SCRIPT
                slot.scripts.clear()

    # --- jobs -------------------------------------------------------------------------

    def create(self, api: str, job_id: str, kind: str, attrs: Mapping[str, Any]) -> StoredJob:
        """A new job, taking the next queued script of its API or the API's defaults."""
        with self._lock:
            slot = self._slot(api)
            script = slot.scripts.popleft() if slot.scripts else slot.defaults
            job = StoredJob(api, job_id, kind, dict(attrs), Facts(created=self.now(), script=script))
            self._jobs[(api, job_id)] = job
            return job

    def create_scripted(
        self, api: str, job_id: str, kind: str, attrs: Mapping[str, Any], created: float, script: Script
    ) -> StoredJob:
        """A job with its own creation time and script (the control endpoint's bulk creation)."""
        with self._lock:
            self._slot(api)
            job = StoredJob(api, job_id, kind, dict(attrs), Facts(created=created, script=script))
            self._jobs[(api, job_id)] = job
            return job

    def get(self, api: str, job_id: str, *, include_expired: bool = False) -> StoredJob | None:
        with self._lock:
            job = self._jobs.get((api, job_id))
            if job is None or (job.expired and not include_expired):
                return None
            return job

    def jobs(self, api: str | None = None, *, include_expired: bool = False) -> list[StoredJob]:
        """Jobs in creation order (oldest first)."""
        with self._lock:
            return [
                job
                for job in self._jobs.values()
                if (api is None or job.api == api) and (include_expired or not job.expired)
            ]

    def observe(self, job: StoredJob) -> Snapshot:
        with self._lock:
            return observe(job.facts, self._slot(job.api).names, self.now())

    def count_get(self, job: StoredJob) -> None:
        """Record one GET of the job's detail: tests use it to check polling behaviour."""
        with self._lock:
            job.gets += 1

    def cancel(self, job: StoredJob, *, immediate: bool) -> Snapshot:
        """Record a cancel request (the API module has already checked its own rules).

        ``immediate`` cancels at once; otherwise the job is cancelling for CANCEL_DELAY first.
        A cancel replaces any forced state: it is the newer event. A job already cancelling
        (wound down by an earlier cancel, or forced into its API's cancelling state) is left as
        it is: a repeated cancel is harmless. APIs that refuse a repeat check before calling.
        """
        with self._lock:
            snap = self.observe(job)
            if snap.phase is Phase.CANCELLING:
                return snap
            job.facts.cancel_at = self.now()
            job.facts.cancel_immediate = immediate
            job.facts.forced_status = job.facts.forced_at = None
            return self.observe(job)

    def force_state(self, job: StoredJob, raw_status: str) -> Snapshot:
        """Pin the job to a raw state from now on, whatever its script says."""
        with self._lock:
            job.facts.forced_status = raw_status
            job.facts.forced_at = self.now()
            return self.observe(job)

    def expire(self, job: StoredJob) -> None:
        """Hide the job from its API, as after Tinybird's 48 h retention; logs still see it."""
        with self._lock:
            job.expired = True
