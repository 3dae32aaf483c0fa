"""A job's state as a pure function of its script, what happened to it, and the time.

Nothing runs in the background: every request computes the state afresh from wall-clock time.
That keeps the emulator free of timers and tasks, so a job can never be "stuck" because a
loop was busy, and the rules can be unit-tested with made-up timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from airflow_jobs_provider.emulator.core.script import Script

CANCEL_DELAY = 0.3
"""Seconds a job that was cancelled while working spends cancelling before it is cancelled."""


class Phase(Enum):
    """Where a job is in its life, whatever its API calls that state."""

    QUEUED = "queued"
    WORKING = "working"
    CANCELLING = "cancelling"
    FINISHED = "finished"


@dataclass(frozen=True)
class StateNames:
    """One API's raw names for the phases and the canonical outcomes."""

    queued: str
    working: str
    cancelling: str
    succeeded: str
    failed: str
    cancelled: str

    def final(self, outcome: str) -> str:
        """The raw final state for a script outcome: canonical names map, raw ones pass through."""
        canonical = {"succeeded": self.succeeded, "failed": self.failed, "cancelled": self.cancelled}
        return canonical.get(outcome, outcome)

    def phase_of(self, raw_status: str) -> Phase:
        """Phase of a raw state; unknown states count as finished (nothing more will happen)."""
        phases = {self.queued: Phase.QUEUED, self.working: Phase.WORKING, self.cancelling: Phase.CANCELLING}
        return phases.get(raw_status, Phase.FINISHED)


@dataclass
class Facts:
    """What happened to one job, as recorded by the store (times are epoch seconds)."""

    created: float
    script: Script
    cancel_at: float | None = None
    cancel_immediate: bool = False
    forced_status: str | None = None
    forced_at: float | None = None
    start_after: float | None = None
    """When a lock the job waited behind was released (Keboola's configuration lock): its queue time
    counts from then."""


@dataclass(frozen=True)
class Snapshot:
    """One observation of a job at a given time."""

    raw_status: str
    phase: Phase
    progress: float
    created_at: float
    updated_at: float
    started_at: float | None
    error: str | None


def observe(facts: Facts, names: StateNames, now: float) -> Snapshot:
    """The job's state at ``now``: a forced state wins, then a cancellation, then the script."""
    if facts.forced_status is not None and facts.forced_at is not None:
        raw, updated, progress = facts.forced_status, facts.forced_at, progress_at(facts, facts.forced_at)
        stopped: float | None = facts.forced_at
    elif facts.cancel_at is not None:
        raw, updated, progress = _cancelled(facts, names, facts.cancel_at, now)
        stopped = facts.cancel_at
    else:
        raw, updated, progress = _scripted(facts, names, now)
        stopped = None
    # The script stops being followed when a state is forced or a cancel arrives: a job
    # cancelled while waiting never started, whatever the clock says now.
    horizon = now if stopped is None else min(now, stopped)
    return Snapshot(
        raw_status=raw,
        phase=names.phase_of(raw),
        progress=progress,
        created_at=facts.created,
        updated_at=updated,
        started_at=_start(facts) if horizon >= _start(facts) else None,
        error=facts.script.error if raw == names.failed else None,
    )


def _start(facts: Facts) -> float:
    return max(facts.created, facts.start_after or facts.created) + facts.script.queue_seconds


def _end(facts: Facts) -> float:
    return _start(facts) + facts.script.duration


def progress_at(facts: Facts, when: float) -> float:
    """Scripted step (or linear percentage) reached at ``when``; 0 before work starts."""
    script = facts.script
    if when < _start(facts):
        return 0.0
    fraction = (when - _start(facts)) / script.duration if script.duration > 0 else 1.0
    fraction = min(max(fraction, 0.0), 1.0)
    if script.progress:
        index = min(int(fraction * len(script.progress)), len(script.progress) - 1)
        return script.progress[index]
    return round(fraction * 100, 1)


State = tuple[str, float, float]
"""(raw status, time it was entered, progress)."""


def _scripted(facts: Facts, names: StateNames, now: float) -> State:
    start, end = _start(facts), _end(facts)
    if now < start:
        return names.queued, facts.created, 0.0
    if now < end:
        return names.working, start, progress_at(facts, now)
    raw = names.final(facts.script.outcome)
    return raw, end, 100.0 if raw == names.succeeded else progress_at(facts, end)


def _cancelled(facts: Facts, names: StateNames, cancel_at: float, now: float) -> State:
    progress = progress_at(facts, cancel_at)
    if facts.cancel_immediate:
        return names.cancelled, cancel_at, progress
    if now < cancel_at + CANCEL_DELAY:
        return names.cancelling, cancel_at, progress
    return names.cancelled, cancel_at + CANCEL_DELAY, progress


def held(facts: Facts, raw_status: str) -> Snapshot:
    """A job held back before it starts (e.g. waiting for a lock): queued in ``raw_status``."""
    return Snapshot(
        raw_status=raw_status,
        phase=Phase.QUEUED,
        progress=0.0,
        created_at=facts.created,
        updated_at=facts.created,
        started_at=None,
        error=None,
    )


def as_created(facts: Facts, names: StateNames) -> Snapshot:
    """The job as a creation response shows it: queued, whatever its script says.

    Real APIs enqueue the job and answer before any worker picks it up, so even a script with
    no queue time must not make a creation response say "working".
    """
    return Snapshot(
        raw_status=names.queued,
        phase=Phase.QUEUED,
        progress=0.0,
        created_at=facts.created,
        updated_at=facts.created,
        started_at=None,
        error=None,
    )
