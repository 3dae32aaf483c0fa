"""The Acme Batch API: API-key auth, 201 creates, upper-case states, 202/409 aborts."""

from __future__ import annotations

import re

import pytest
import requests

from airflow_jobs_provider.emulator import EmulatorServer
from tests.support.emulator_http import Acme


def test_missing_or_wrong_api_key_is_a_401(emulator: EmulatorServer, session: requests.Session) -> None:
    for headers in ({}, {"X-Api-Key": "wrong"}, {"Authorization": f"Bearer {emulator.token}"}):
        response = session.get(f"{emulator.url}/acme/v2/runs", headers=headers)
        assert (response.status_code, response.json()) == (401, {"message": "invalid API key"})


def test_create_returns_201_with_a_queued_run(acme: Acme) -> None:
    run = acme.create("nightly-export", params={"day": 1})
    assert re.fullmatch(r"run-[0-9a-f]{12}", run["id"])
    assert (run["task"], run["state"], run["progress"], run["error"]) == ("nightly-export", "QUEUED", 0, None)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", run["created"])
    assert run["links"] == {
        "self": f"{acme.url}/runs/{run['id']}",
        "ui": f"{acme.url.removesuffix('/v2')}/ui/runs/{run['id']}",
    }


@pytest.mark.parametrize("body", [{}, {"task": ""}, {"task": 5}], ids=["missing", "empty", "not-a-string"])
def test_task_is_required(acme: Acme, body: dict[str, object]) -> None:
    response = acme.session.post(f"{acme.url}/runs", json=body)
    assert (response.status_code, response.json()) == (422, {"message": "task is required"})


def test_body_must_be_a_json_object(acme: Acme) -> None:
    response = acme.session.post(f"{acme.url}/runs", data=b"[1, 2]", headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_unknown_run_is_a_404(acme: Acme) -> None:
    response = acme.session.get(f"{acme.url}/runs/run-000000000000")
    assert (response.status_code, response.json()) == (404, {"message": "run run-000000000000 not found"})


def test_run_goes_queued_running_succeeded_with_progress(acme: Acme, emulator: EmulatorServer) -> None:
    emulator.script("acme", queue_seconds=0.1, duration=0.6, progress=[30, 60])
    run_id = acme.create()["id"]
    running = acme.wait_state(run_id, "RUNNING")
    assert running["progress"] in (30, 60)
    done = acme.wait_state(run_id, "SUCCEEDED")
    assert (done["progress"], done["error"]) == (100, None)


def test_failed_run_carries_the_error(acme: Acme, emulator: EmulatorServer) -> None:
    emulator.script("acme", outcome="failed", error="quota exceeded", queue_seconds=0, duration=0)
    run = acme.wait_state(acme.create()["id"], "FAILED")
    assert run["error"] == "quota exceeded"


def test_abort_queued_run_is_immediate(acme: Acme, emulator: EmulatorServer) -> None:
    emulator.script("acme", queue_seconds=30)
    run_id = acme.create()["id"]
    response = acme.session.post(f"{acme.url}/runs/{run_id}/abort")
    assert (response.status_code, response.json()["run"]["state"]) == (202, "ABORTED")


def test_abort_running_run_goes_through_aborting(acme: Acme, emulator: EmulatorServer) -> None:
    emulator.script("acme", queue_seconds=0, duration=30)
    run_id = acme.create()["id"]
    acme.wait_state(run_id, "RUNNING")
    first = acme.session.post(f"{acme.url}/runs/{run_id}/abort")
    again = acme.session.post(f"{acme.url}/runs/{run_id}/abort")
    assert (first.status_code, first.json()["run"]["state"]) == (202, "ABORTING")
    assert (again.status_code, again.json()["run"]["state"]) == (202, "ABORTING")
    acme.wait_state(run_id, "ABORTED", timeout=3)
    finished = acme.session.post(f"{acme.url}/runs/{run_id}/abort")
    assert (finished.status_code, finished.json()) == (409, {"message": "run is already finished"})


def test_list_is_newest_first_and_filters_by_state_and_task(acme: Acme, emulator: EmulatorServer) -> None:
    emulator.script("acme", queue_seconds=30)
    queued = acme.create("a")["id"]
    emulator.set_defaults("acme", queue_seconds=0, duration=0)
    done_a, done_b = acme.create("a")["id"], acme.create("b")["id"]
    acme.wait_state(done_b, "SUCCEEDED")

    def ids(**params: str) -> list[str]:
        return [run["id"] for run in acme.session.get(f"{acme.url}/runs", params=params).json()["runs"]]

    assert ids() == [done_b, done_a, queued]
    assert ids(state="QUEUED") == [queued]
    assert ids(task="a") == [done_a, queued]
    assert ids(task="a", state="SUCCEEDED") == [done_a]
