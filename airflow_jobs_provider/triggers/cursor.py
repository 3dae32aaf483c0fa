"""Which finished jobs an event watcher has reported: a small JSON cursor with a size limit.

A watcher (``JobEventTrigger``) must report each finished job once, also after a triggerer
restart. It must not report jobs that had already finished when it first started. The cursor
holds what that takes, and no more, so it fits in one asset state store value:

- ``since``: when the watcher first started, minus the look-back window. It is set once.
- ``done``: matching finished jobs already handled, id → finish time (epoch seconds or None).
  A job is handled when it was reported, or when the first poll found it already finished.
  At most ``MAX_DONE`` ids are kept. When more come, the ones that finished earliest are dropped.
- ``floor``: the latest finish time among the dropped ids. A job that finished at or before it
  is one of them (or older), so it is never reported again, however long the watcher runs.
- ``running``: ids seen before they finished (at most ``MAX_RUNNING``). A job seen running
  is reported when it ends, even if the floor says otherwise. This covers APIs whose only
  time is the creation time, for which a long job can look older than the floor.
- ``seen_until``: the watcher has seen every job of its list whose order time (end or last
  update) is at or after this. A restarted watcher asks its list to be read back to it
  (triggers/job_lists.py), so that nothing that ended while it was down is missed.

Jobs that end in a state the watcher does not want are never stored. Terminal states do not
change, so such a job can never fire later.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.values import epoch

VERSION = 1
MAX_DONE = 500
MAX_RUNNING = 500
SINCE_SLACK = 15.0
"""A job is "older than the watcher" only when it ended this long before ``since``: API times are
whole seconds (Keboola, Airbyte, jobs_log) and clocks differ a little."""
MAX_ID_CHARS = 24_000
"""Bound on the ids' total length too: REST ids can be long, and the store warns above 64 KB."""

# Where each API puts a finished job's time in its payload, best first: the end, then the
# last update (the end, for a finished job), then the creation as the last resort.
END_FIELDS = (
    "endTime", "finished_at", "finishedAt", "ended_at", "end_time", "lastUpdatedAt", "updated_at", "updatedAt",
)  # fmt: skip
CREATED_FIELDS = ("createdTime", "created_at", "createdAt", "created", "startTime", "started_at")


def finished_at(job: Job) -> float | None:
    """Epoch seconds when the job finished, as far as its payload tells; None when it has no time."""
    for name in (*END_FIELDS, *CREATED_FIELDS):
        moment = epoch(job.payload.get(name))
        if moment is not None:
            return moment
    return None


@dataclass
class JobCursor:
    """What one watcher has handled; ``select`` decides which jobs of a poll to report."""

    since: float
    lookback: bool = False
    """Whether the first poll reports jobs that finished since ``since``; only read before the baseline."""
    floor: float | None = None
    done: dict[str, float | None] = field(default_factory=dict)
    running: dict[str, None] = field(default_factory=dict)
    baselined: bool = False
    seen_until: float | None = None

    def need(self) -> float:
        """How far back this watcher needs its list read: ``seen_until``, else (a cursor stored before
        it existed) the latest finish it handled, else its first start."""
        if self.seen_until is not None:
            return self.seen_until
        moments = [moment for moment in (*self.done.values(), self.floor) if moment is not None]
        return max(moments) if moments else self.since

    def saw_until(self, moment: float) -> None:
        self.seen_until = moment if self.seen_until is None else max(self.seen_until, moment)

    @classmethod
    def start(cls, now: float, lookback_seconds: float | None) -> JobCursor:
        """A watcher's first start: nothing handled yet, the first poll sets the baseline."""
        return cls(since=now - (lookback_seconds or 0.0), lookback=bool(lookback_seconds))

    def select(self, jobs: Iterable[Job], states: frozenset[JobStatus]) -> list[Job]:
        """The jobs of this poll to report now, earliest finish first; they count as handled."""
        first_poll = not self.baselined
        fresh: list[tuple[float, Job]] = []
        for job in jobs:
            if not job.status.is_terminal:
                self._remember_running(job.job_id)
                continue
            seen_running = job.job_id in self.running
            self.running.pop(job.job_id, None)
            if job.status not in states or job.job_id in self.done:
                continue
            moment = finished_at(job)
            if not first_poll and not seen_running and moment is not None and moment < self.since - SINCE_SLACK:
                continue  # finished before the watcher started (a list read far back for another watcher)
            self.done[job.job_id] = moment
            if first_poll and not (self.lookback and moment is not None and moment >= self.since):
                continue  # finished before the watcher started (or outside its look-back window)
            if not seen_running and self.floor is not None and moment is not None and moment <= self.floor:
                continue  # dropped from ``done`` long ago: already handled
            fresh.append((-math.inf if moment is None else moment, job))
        self.baselined = True
        self._trim()
        return [job for _, job in sorted(fresh, key=lambda pair: pair[0])]

    def _remember_running(self, job_id: str) -> None:
        self.running[job_id] = None
        while len(self.running) > MAX_RUNNING:
            del self.running[next(iter(self.running))]

    def _trim(self) -> None:
        """Drop the earliest-finished ids beyond the limits; the floor remembers where they were."""
        chars = sum(map(len, self.done))
        if len(self.done) <= MAX_DONE and chars <= MAX_ID_CHARS:
            return
        by_time = sorted(self.done.items(), key=lambda item: -math.inf if item[1] is None else item[1])
        for job_id, moment in by_time:
            if len(self.done) <= MAX_DONE and chars <= MAX_ID_CHARS:
                break
            del self.done[job_id]
            chars -= len(job_id)
            if moment is not None:
                self.floor = moment if self.floor is None else max(self.floor, moment)

    # -- storage
    def to_json(self, exclude: Iterable[str] = ()) -> dict[str, Any]:
        """Plain JSON for the asset state store; ``exclude`` leaves out reports not yet safe to commit."""
        left_out = set(exclude)
        return {
            "version": VERSION,
            "since": self.since,
            "floor": self.floor,
            "done": [[job_id, moment] for job_id, moment in self.done.items() if job_id not in left_out],
            "running": list(self.running),
            "seen_until": self.seen_until,
        }

    @classmethod
    def from_json(cls, data: Any) -> JobCursor | None:
        """The stored cursor, or None when there is none or it is not one this version can read."""
        if not isinstance(data, Mapping) or data.get("version") != VERSION:
            return None
        try:
            done = {str(job_id): None if moment is None else float(moment) for job_id, moment in data["done"]}
            return cls(
                since=float(data["since"]),
                floor=None if data.get("floor") is None else float(data["floor"]),
                done=done,
                running=dict.fromkeys(str(job_id) for job_id in data.get("running", [])),
                baselined=True,
                seen_until=None if data.get("seen_until") is None else float(data["seen_until"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def merge(self, other: JobCursor) -> JobCursor:
        """Two copies of one watcher's cursor (one per watched asset) as one: nothing handled twice."""
        floors = [floor for floor in (self.floor, other.floor) if floor is not None]
        merged = JobCursor(
            since=min(self.since, other.since),
            floor=max(floors) if floors else None,
            done={**other.done, **self.done},
            running={**other.running, **self.running},
            baselined=self.baselined or other.baselined,
            seen_until=min(
                (moment for moment in (self.seen_until, other.seen_until) if moment is not None), default=None
            ),
        )
        merged._trim()
        return merged
