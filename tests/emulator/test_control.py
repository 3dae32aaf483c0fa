"""The control endpoint: scripts (FIFO, defaults, validation), forced states, expiry, reset."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_jobs_provider.emulator import EmulatorControlError, EmulatorServer
from tests.support.emulator_http import Tinybird


def test_scripts_apply_in_order_then_defaults_return(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    emulator.script("tinybird", outcome="failed", queue_seconds=0, duration=0, times=2)
    emulator.script("tinybird", outcome="cancelled", queue_seconds=0, duration=0)
    emulator.set_defaults("tinybird", queue_seconds=0, duration=0)
    ids = [tinybird.copy()["id"] for _ in range(4)]
    statuses = [tinybird.wait_status(job_id, "error", "cancelled", "done")["status"] for job_id in ids]
    assert statuses == ["error", "error", "cancelled", "done"]


def test_scripts_are_per_api(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    emulator.script("acme", outcome="failed", queue_seconds=0, duration=0)
    emulator.set_defaults("tinybird", queue_seconds=0, duration=0)
    assert tinybird.wait_status(tinybird.copy()["id"], "done", "error")["status"] == "done"


def test_script_answer_shows_the_merged_script(emulator: EmulatorServer) -> None:
    emulator.set_defaults("acme", duration=5)
    answer = emulator.script("acme", outcome="failed", times=2)
    assert answer == {
        "api": "acme",
        "times": 2,
        "script": {
            "outcome": "failed",
            "duration": 5,
            "queue_seconds": 0.2,
            "progress": [],
            "error": "Scripted failure",
        },
    }


def test_reset_forgets_jobs_scripts_and_defaults(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    emulator.set_defaults("tinybird", duration=9)
    emulator.script("tinybird", outcome="failed", queue_seconds=0, duration=0)
    tinybird.copy()
    emulator.reset()
    assert emulator.jobs() == [] and emulator.requests() == []
    assert emulator.set_defaults("tinybird")["script"]["duration"] == 1.0
    tinybird.copy()
    assert emulator.jobs()[0]["script"]["outcome"] == "succeeded", "the queued failure was forgotten"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"api": "nope"}, "unknown api 'nope'; known: acme, "),
        ({"api": None}, "field 'api' is required"),
        ({"api": "tinybird", "duration": -1}, "'duration' must be a number of seconds >= 0"),
        ({"api": "tinybird", "progress": [150]}, "between 0 and 100"),
        ({"api": "tinybird", "times": 0}, "'times' must be an integer >= 1"),
        ({"api": "tinybird", "colour": "red"}, "unknown field(s) colour"),
    ],
)
def test_invalid_scripts_get_a_400_with_a_clear_message(
    emulator: EmulatorServer, session: requests.Session, fields: dict[str, Any], message: str
) -> None:
    response = session.post(f"{emulator.url}/_emulator/script", json=fields)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_helpers_raise_the_emulator_message(emulator: EmulatorServer) -> None:
    with pytest.raises(EmulatorControlError, match=r"400: field 'outcome' must be one of"):
        emulator.script("tinybird", outcome=7)
    with pytest.raises(EmulatorControlError, match=r"unknown field\(s\) times"):
        emulator.set_defaults("tinybird", times=2)


def test_non_json_body_is_a_400(emulator: EmulatorServer, session: requests.Session) -> None:
    response = session.post(f"{emulator.url}/_emulator/defaults", data=b"outcome=failed")
    assert (response.status_code, response.json()) == (400, {"error": "body must be a JSON object"})


def test_jobs_lists_every_api_with_state_and_counters(
    tinybird: Tinybird, emulator: EmulatorServer, session: requests.Session
) -> None:
    emulator.script("tinybird", queue_seconds=30)
    job_id = tinybird.copy()["id"]
    tinybird.post(f"/v0/jobs/{job_id}/cancel")
    session.post(f"{emulator.url}/acme/v2/runs", json={"task": "t"}, headers={"X-Api-Key": emulator.token})
    [tb_job] = emulator.jobs("tinybird")
    assert {key: tb_job[key] for key in ("api", "id", "kind", "raw_status", "cancel_requested", "gets")} == {
        "api": "tinybird",
        "id": job_id,
        "kind": "copy",
        "raw_status": "cancelled",
        "cancel_requested": True,
        "gets": 0,
    }
    assert tb_job["created_at"].endswith("Z")
    assert [job["api"] for job in emulator.jobs()] == ["tinybird", "acme"]
    with pytest.raises(EmulatorControlError, match="unknown api"):
        emulator.jobs("no-such-api")


def test_forced_state_is_sticky(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    emulator.script("tinybird", queue_seconds=0, duration=0.2)
    job_id = tinybird.copy()["id"]
    assert emulator.force_state("tinybird", job_id, "mystery")["raw_status"] == "mystery"
    assert tinybird.job(job_id)["status"] == "mystery"
    emulator.force_state("tinybird", job_id, "waiting")
    job = tinybird.job(job_id)
    assert (job["status"], job["is_cancellable"]) == ("waiting", True)
    with pytest.raises(EmulatorControlError, match="'raw_status' is required"):
        emulator.force_state("tinybird", job_id, "")


def test_unknown_job_in_control_calls_is_a_404(emulator: EmulatorServer) -> None:
    with pytest.raises(EmulatorControlError, match=r"404: no tinybird job with id 'ghost'"):
        emulator.expire("tinybird", "ghost")


def test_expired_acme_run_is_a_404_but_still_listed_by_control(
    emulator: EmulatorServer, session: requests.Session
) -> None:
    headers = {"X-Api-Key": emulator.token}
    run_id = session.post(f"{emulator.url}/acme/v2/runs", json={"task": "t"}, headers=headers).json()["run"]["id"]
    assert emulator.expire("acme", run_id)["expired"] is True
    assert session.get(f"{emulator.url}/acme/v2/runs/{run_id}", headers=headers).status_code == 404
    assert [job["id"] for job in emulator.jobs("acme")] == [run_id]
