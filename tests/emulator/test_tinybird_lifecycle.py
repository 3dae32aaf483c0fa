"""Scripted Tinybird jobs move waiting -> working -> final state on the wall clock."""

from __future__ import annotations

import pytest

from airflow_jobs_provider.emulator import EmulatorServer
from tests.support.emulator_http import Tinybird
from tests.support.polling import poll_until


def test_job_waits_works_and_finishes_done(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    emulator.script("tinybird", queue_seconds=0.3, duration=0.4)
    job_id = tinybird.copy()["id"]
    assert tinybird.job(job_id)["status"] == "waiting"
    working = tinybird.wait_status(job_id, "working", "done")
    assert working["status"] == "working", "a 0.4 s working phase must be observable"
    assert working["started_at"] is not None and working["is_cancellable"] is False
    done = tinybird.wait_status(job_id, "done")
    assert done["updated_at"] > done["started_at"] > done["created_at"]


def test_progress_moves_through_the_scripted_steps(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    emulator.script("tinybird", queue_seconds=0, duration=0.9, progress=[10, 50, 90])
    job_id = tinybird.copy()["id"]
    seen: list[float] = []

    def poll() -> dict[str, object]:
        job = tinybird.job(job_id)
        seen.append(float(job["progress_percentage"]))  # type: ignore[arg-type]
        return job

    poll_until(poll, lambda job: job["status"] == "done")
    steps = list(dict.fromkeys(seen))  # distinct values, in the order seen
    assert steps == [10.0, 50.0, 90.0, 100.0]


def test_copy_without_progress_script_has_no_progress_field(tinybird: Tinybird) -> None:
    assert "progress_percentage" not in tinybird.job(tinybird.copy()["id"])


def test_failed_job_reports_the_scripted_error(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    emulator.script("tinybird", outcome="failed", error="Memory limit exceeded", queue_seconds=0, duration=0.05)
    job = tinybird.wait_status(tinybird.copy()["id"], "error")
    assert job["error"] == "Memory limit exceeded"
    assert "errors" not in job


def test_failed_import_also_lists_errors(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    emulator.script("tinybird", outcome="failed", queue_seconds=0, duration=0)
    job_id = tinybird.post("/v0/datasources", name="events", url="https://example.com/e.csv").json()["id"]
    job = tinybird.wait_status(job_id, "error")
    assert (job["error"], job["errors"], job["statistics"]) == ("Scripted failure", ["Scripted failure"], None)


@pytest.mark.parametrize(("outcome", "status"), [("cancelled", "cancelled"), ("weird", "weird"), ("done", "done")])
def test_outcomes_map_or_pass_through_verbatim(
    tinybird: Tinybird, emulator: EmulatorServer, outcome: str, status: str
) -> None:
    emulator.script("tinybird", outcome=outcome, queue_seconds=0, duration=0)
    job = tinybird.wait_status(tinybird.copy()["id"], status)
    assert "error" not in job


def test_unknown_job_is_a_404_in_tinybird_shape(tinybird: Tinybird) -> None:
    response = tinybird.get("/v0/jobs/no-such-job")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {
        "error": 'Job with id "no-such-job" not found',
        "documentation": "https://docs.tinybird.co/api-reference/jobs-api.html#get--v0-jobs-(.+)",
    }


def test_detail_gets_are_counted(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    job_id = tinybird.copy()["id"]
    for _ in range(3):
        tinybird.job(job_id)
    tinybird.get("/v0/jobs")
    assert emulator.jobs("tinybird")[0]["gets"] == 3
