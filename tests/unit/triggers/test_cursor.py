"""The event watcher's cursor: baseline, exactly-once selection, look-back, bounded size, storage."""

from __future__ import annotations

import json
import uuid

import pytest

from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.triggers import cursor as cursor_module
from airflow_jobs_provider.triggers.cursor import MAX_DONE, JobCursor, epoch, finished_at

SUCCEEDED = frozenset({JobStatus.SUCCEEDED})
START = 1_800_000_000.0


def job(job_id: str, status: JobStatus = JobStatus.SUCCEEDED, at: float | None = START + 10, **payload: object) -> Job:
    if at is not None:
        payload.setdefault("endTime", at)
    return Job(job_id, status, status.value.lower(), payload=dict(payload))


def started(lookback: float | None = None) -> JobCursor:
    return JobCursor.start(START, lookback)


def ids(jobs: list[Job]) -> list[str]:
    return [j.job_id for j in jobs]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027-01-15 08:00:00.250000", 1800000000.25),  # Tinybird: naive UTC with microseconds
        ("2027-01-15T08:00:00Z", 1800000000.0),  # Airbyte
        ("2027-01-15T09:00:00+01:00", 1800000000.0),  # Keboola
        ("2027-01-15T08:00:00.000Z", 1800000000.0),  # Acme
        (1800000000000, 1800000000.0),  # epoch milliseconds
        (1800000000, 1800000000.0),
        ("yesterday", None),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_epoch_reads_each_apis_times(value, expected):
    assert epoch(value) == expected


def test_finished_at_prefers_the_end_to_the_creation():
    assert finished_at(Job("1", JobStatus.SUCCEEDED, "done", payload={"created_at": 5, "updated_at": 9})) == 9
    assert finished_at(Job("1", JobStatus.SUCCEEDED, "done", payload={"createdTime": 5, "endTime": 7})) == 7
    assert finished_at(Job("1", JobStatus.SUCCEEDED, "done", payload={"created": 5})) == 5
    assert finished_at(Job("1", JobStatus.SUCCEEDED, "done", payload={})) is None


def test_first_poll_is_a_baseline_that_fires_nothing():
    cursor = started()

    assert cursor.select([job("old"), job("running", JobStatus.RUNNING)], SUCCEEDED) == []
    assert "old" in cursor.done
    assert "running" in cursor.running


def test_after_the_baseline_each_finished_job_fires_once():
    cursor = started()
    cursor.select([job("old")], SUCCEEDED)

    assert ids(cursor.select([job("new"), job("old")], SUCCEEDED)) == ["new"]
    assert cursor.select([job("new"), job("old")], SUCCEEDED) == []


def test_jobs_in_other_states_never_fire_and_are_not_stored():
    cursor = started()
    cursor.select([], SUCCEEDED)

    assert cursor.select([job("failed", JobStatus.FAILED), job("cancelled", JobStatus.CANCELLED)], SUCCEEDED) == []
    assert cursor.done == {}
    assert ids(cursor.select([job("failed", JobStatus.FAILED)], frozenset({JobStatus.FAILED}))) == ["failed"]


def test_a_job_seen_running_fires_once_when_it_ends():
    cursor = started()
    cursor.select([job("j", JobStatus.RUNNING)], SUCCEEDED)
    assert cursor.select([job("j", JobStatus.RUNNING)], SUCCEEDED) == []

    assert ids(cursor.select([job("j")], SUCCEEDED)) == ["j"]
    assert cursor.select([job("j")], SUCCEEDED) == []
    assert "j" not in cursor.running


def test_lookback_fires_jobs_that_ended_within_the_window_at_the_first_poll():
    cursor = started(lookback=60)  # since = START - 60

    polled = [job("recent", at=START - 30), job("older", at=START - 90), job("timeless", at=None)]
    fresh = cursor.select(polled, SUCCEEDED)

    assert ids(fresh) == ["recent"]
    assert {"recent", "older", "timeless"} <= set(cursor.done)


def test_several_jobs_fire_in_the_order_they_finished():
    cursor = started()
    cursor.select([], SUCCEEDED)

    fresh = cursor.select([job("c", at=START + 3), job("a", at=START + 1), job("b", at=START + 2)], SUCCEEDED)

    assert ids(fresh) == ["a", "b", "c"]


def test_the_cursor_stays_bounded_and_dropped_jobs_never_fire_again():
    cursor = started()
    cursor.select([], SUCCEEDED)
    first_batch = [job(f"j{n}", at=START + n) for n in range(MAX_DONE + 50)]

    assert len(cursor.select(first_batch, SUCCEEDED)) == MAX_DONE + 50
    assert len(cursor.done) == MAX_DONE
    assert cursor.floor == START + 49, "the latest finish among the 50 dropped"
    assert "j0" not in cursor.done

    assert cursor.select(first_batch, SUCCEEDED) == [], "dropped ids sit under the floor"
    assert ids(cursor.select([job("later", at=START + 10_000)], SUCCEEDED)) == ["later"]


def test_a_job_seen_running_fires_even_when_its_only_time_is_under_the_floor():
    """APIs that give only a creation time: a long job looks older than the jobs dropped since."""
    cursor = started()
    cursor.select([job("long", JobStatus.RUNNING, at=None, created=START)], SUCCEEDED)
    cursor.floor = START + 100

    assert ids(cursor.select([job("long", at=None, created=START)], SUCCEEDED)) == ["long"]


def test_long_ids_are_bounded_by_their_total_length(monkeypatch):
    monkeypatch.setattr(cursor_module, "MAX_ID_CHARS", 1_000)
    cursor = started()
    cursor.select([], SUCCEEDED)

    cursor.select([job("x" * 100 + str(n), at=START + n) for n in range(30)], SUCCEEDED)

    assert sum(map(len, cursor.done)) <= 1_000


def test_a_full_cursor_of_uuids_fits_the_state_stores_64_kb():
    cursor = started()
    cursor.select([], SUCCEEDED)
    cursor.select([job(str(uuid.uuid4()), at=START + n) for n in range(MAX_DONE * 2)], SUCCEEDED)
    cursor.running.update(dict.fromkeys(str(uuid.uuid4()) for _ in range(cursor_module.MAX_RUNNING)))

    assert len(json.dumps(cursor.to_json())) < 65_535


def test_json_round_trip_keeps_what_decides_the_next_reports():
    cursor = started()
    cursor.select([job("a"), job("r", JobStatus.RUNNING)], SUCCEEDED)
    cursor.floor = START - 5

    restored = JobCursor.from_json(json.loads(json.dumps(cursor.to_json())))

    expected = JobCursor(since=START, floor=START - 5, done={"a": START + 10}, running={"r": None}, baselined=True)
    assert restored == expected
    assert restored.select([job("a"), job("r")], SUCCEEDED) == [job("r")]


def test_excluded_reports_are_left_out_of_the_stored_cursor():
    cursor = started()
    cursor.select([], SUCCEEDED)
    cursor.select([job("committed"), job("pending")], SUCCEEDED)

    stored = cursor.to_json(exclude=["pending"])

    assert [job_id for job_id, _ in stored["done"]] == ["committed"]


@pytest.mark.parametrize("stored", [None, {}, {"version": 99, "since": 1, "done": []}, {"version": 1}, "text", []])
def test_a_missing_or_foreign_cursor_reads_as_none(stored):
    assert JobCursor.from_json(stored) is None


def test_merging_two_copies_handles_every_job_either_handled():
    one = JobCursor(since=START, floor=START + 1, done={"a": START + 2}, running={"r1": None}, baselined=True)
    two = JobCursor(since=START - 5, floor=None, done={"b": START + 3}, running={"r2": None}, baselined=True)

    merged = one.merge(two)

    assert merged.since == START - 5
    assert merged.floor == START + 1
    assert set(merged.done) == {"a", "b"}
    assert set(merged.running) == {"r1", "r2"}


def test_seen_until_round_trips_and_decides_how_far_back_a_restart_reads() -> None:
    cursor = JobCursor.start(1000.0, None)
    assert cursor.need() == 1000.0
    cursor.saw_until(1500.0)
    cursor.saw_until(1200.0)
    restored = JobCursor.from_json(cursor.to_json())
    assert restored is not None and restored.seen_until == 1500.0 and restored.need() == 1500.0


def test_a_cursor_stored_before_seen_until_reads_back_to_its_latest_handled_job() -> None:
    restored = JobCursor.from_json({"version": 1, "since": 1000.0, "floor": 1100.0, "done": [["a", 1300.0]]})
    assert restored is not None and restored.need() == 1300.0


def test_a_job_that_ended_long_before_the_watcher_started_never_fires_later() -> None:
    """A list read far back for another watcher of the same stream shows it: not this watcher's job."""
    cursor = started()
    cursor.select([], frozenset({JobStatus.SUCCEEDED}))  # the baseline
    old, recent = job("old", at=START - 3600), job("recent", at=START + 5)
    assert ids(cursor.select([old, recent], frozenset({JobStatus.SUCCEEDED}))) == ["recent"]
    assert "old" not in cursor.done
