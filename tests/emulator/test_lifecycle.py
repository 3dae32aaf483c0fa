"""The lifecycle rules, checked with made-up timestamps (no server, no sleeping)."""

from __future__ import annotations

import pytest

from airflow_jobs_provider.emulator.core.lifecycle import (
    CANCEL_DELAY,
    Facts,
    Phase,
    StateNames,
    as_created,
    observe,
)
from airflow_jobs_provider.emulator.core.script import Script

NAMES = StateNames("waiting", "working", "cancelling", "done", "error", "cancelled")
T0 = 1_000.0


def facts(**script: object) -> Facts:
    return Facts(created=T0, script=Script(**script))  # type: ignore[arg-type]


def test_waits_then_works_then_finishes_with_transition_times() -> None:
    job = facts(queue_seconds=0.5, duration=2.0)
    queued, working, done = (observe(job, NAMES, T0 + dt) for dt in (0.1, 1.0, 3.0))
    assert (queued.raw_status, queued.phase, queued.started_at, queued.updated_at) == (
        "waiting",
        Phase.QUEUED,
        None,
        T0,
    )
    assert (working.raw_status, working.started_at, working.updated_at) == ("working", T0 + 0.5, T0 + 0.5)
    assert (done.raw_status, done.phase, done.updated_at, done.progress) == ("done", Phase.FINISHED, T0 + 2.5, 100.0)


def test_progress_steps_are_spread_evenly_over_the_duration() -> None:
    job = facts(queue_seconds=0.0, duration=3.0, progress=[10, 50, 90])
    seen = [observe(job, NAMES, T0 + dt).progress for dt in (0.5, 1.5, 2.5, 2.99)]
    assert seen == [10, 50, 90, 90]


def test_progress_is_linear_without_steps() -> None:
    job = facts(queue_seconds=1.0, duration=4.0)
    assert [observe(job, NAMES, T0 + dt).progress for dt in (0.5, 2.0, 3.0)] == [0.0, 25.0, 50.0]


def test_failed_outcome_maps_to_the_api_state_and_carries_the_error() -> None:
    snap = observe(facts(outcome="failed", error="disk full", duration=0.0, queue_seconds=0.0), NAMES, T0 + 1)
    assert (snap.raw_status, snap.error) == ("error", "disk full")


@pytest.mark.parametrize("outcome", ["weird", "done_with_warnings"])
def test_raw_outcomes_are_served_verbatim_as_finished(outcome: str) -> None:
    snap = observe(facts(outcome=outcome, duration=0.0, queue_seconds=0.0), NAMES, T0 + 100)
    assert (snap.raw_status, snap.phase, snap.error) == (outcome, Phase.FINISHED, None)


def test_cancel_while_queued_is_immediate_and_the_job_never_starts() -> None:
    job = facts(queue_seconds=1.0)
    job.cancel_at, job.cancel_immediate = T0 + 0.5, True
    snap = observe(job, NAMES, T0 + 10)
    assert (snap.raw_status, snap.started_at, snap.updated_at) == ("cancelled", None, T0 + 0.5)


def test_cancel_while_working_goes_through_cancelling() -> None:
    job = facts(queue_seconds=0.0, duration=10.0, progress=[20, 40])
    job.cancel_at = T0 + 6.0
    cancelling = observe(job, NAMES, T0 + 6.0 + CANCEL_DELAY / 2)
    cancelled = observe(job, NAMES, T0 + 6.0 + CANCEL_DELAY)
    assert (cancelling.raw_status, cancelling.phase, cancelling.progress) == ("cancelling", Phase.CANCELLING, 40)
    assert (cancelled.raw_status, cancelled.started_at) == ("cancelled", T0)
    assert cancelled.updated_at == T0 + 6.0 + CANCEL_DELAY


def test_forced_state_is_sticky_and_its_phase_follows_the_api_names() -> None:
    job = facts(queue_seconds=0.0, duration=1.0)
    job.forced_status, job.forced_at = "waiting", T0 + 0.5
    late = observe(job, NAMES, T0 + 100)
    assert (late.raw_status, late.phase, late.updated_at) == ("waiting", Phase.QUEUED, T0 + 0.5)


def test_creation_view_is_queued_even_without_queue_time() -> None:
    snap = as_created(facts(queue_seconds=0.0, duration=0.0), NAMES)
    assert (snap.raw_status, snap.phase, snap.started_at) == ("waiting", Phase.QUEUED, None)
