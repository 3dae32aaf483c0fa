"""Tinybird cancel rules (job-apis.md §1.5)."""

from __future__ import annotations

from airflow_jobs_provider.emulator import EmulatorServer
from tests.support.emulator_http import Tinybird
from tests.support.polling import poll_until

DOC = "https://docs.tinybird.co/api-reference/jobs-api.html#post--v0-jobs-(.+)-cancel"


def _cancel(tinybird: Tinybird, job_id: str) -> tuple[int, dict[str, object]]:
    response = tinybird.post(f"/v0/jobs/{job_id}/cancel")
    return response.status_code, response.json()


def test_waiting_job_is_cancelled_at_once(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    emulator.script("tinybird", queue_seconds=30)
    job_id = tinybird.copy()["id"]
    status, body = _cancel(tinybird, job_id)
    assert (status, body["status"], body["is_cancellable"]) == (200, "cancelled", False)
    assert tinybird.job(job_id)["status"] == "cancelled"
    assert emulator.jobs("tinybird")[0]["cancel_requested"] is True


def test_working_populate_goes_through_cancelling(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    emulator.script("tinybird", queue_seconds=0, duration=30)
    job_id = tinybird.populate()["id"]
    assert tinybird.wait_status(job_id, "working")["is_cancellable"] is True
    status, body = _cancel(tinybird, job_id)
    assert (status, body["status"], body["is_cancellable"]) == (200, "cancelling", False)
    assert _cancel(tinybird, job_id) == (400, {"error": "Job is already being cancelled", "documentation": DOC})
    cancelled = tinybird.wait_status(job_id, "cancelled", timeout=3)
    assert cancelled["updated_at"] > body["updated_at"]  # type: ignore[operator]


def test_working_copy_is_not_cancellable(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    emulator.script("tinybird", queue_seconds=0, duration=30)
    job_id = tinybird.copy()["id"]
    tinybird.wait_status(job_id, "working")
    assert _cancel(tinybird, job_id) == (400, {"error": "Job is not in cancellable status", "documentation": DOC})


def test_finished_job_is_not_cancellable(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    emulator.script("tinybird", queue_seconds=0, duration=0)
    job_id = tinybird.populate()["id"]
    poll_until(lambda: tinybird.job(job_id)["status"], lambda status: status == "done")
    status, body = _cancel(tinybird, job_id)
    assert (status, body["error"]) == (400, "Job is not in cancellable status")


def test_cancelling_an_unknown_job_is_a_404(tinybird: Tinybird) -> None:
    status, body = _cancel(tinybird, "nope")
    assert (status, body["error"]) == (404, 'Job with id "nope" not found')
