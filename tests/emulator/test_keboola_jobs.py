"""The emulated Keboola Queue API: token header, job object shape, parent runs, kill, errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from airflow_jobs_provider.emulator import EmulatorServer
from tests.support.polling import poll_until

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")
ERROR_KEYS = {"error", "code", "status", "exceptionId", "context"}


class Keboola:
    """Calls the emulated Queue API with the X-StorageApi-Token header."""

    def __init__(self, emulator: EmulatorServer, session: requests.Session) -> None:
        self.url = emulator.url
        self.session = session
        self.session.headers["X-StorageApi-Token"] = emulator.token

    def create(self, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
        body = {"component": "keboola.ex-db-snowflake", "config": "554424643", **body}
        response = self.session.post(f"{self.url}/jobs", json=body, headers=headers or {})
        assert response.status_code == 201, response.text
        job: dict[str, Any] = response.json()
        return job

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.session.get(f"{self.url}/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job

    def kill(self, job_id: str) -> requests.Response:
        return self.session.post(f"{self.url}/jobs/{job_id}/kill")

    def wait_status(self, job_id: str, *statuses: str, timeout: float = 5.0) -> dict[str, Any]:
        return poll_until(
            lambda: self.job(job_id), lambda job: job["status"] in statuses, timeout=timeout, what=f"{statuses}"
        )


@pytest.fixture
def kbc(emulator: EmulatorServer, session: requests.Session) -> Keboola:
    return Keboola(emulator, session)


def assert_keboola_error(response: requests.Response, status: int, text: str) -> None:
    body = response.json()
    assert response.status_code == status
    assert set(body) == ERROR_KEYS
    assert (body["code"], body["status"], body["context"]) == (status, "error", [])
    assert body["exceptionId"]
    assert text in body["error"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-StorageApi-Token": "wrong"}, {"Authorization": "Bearer test-token"}],
    ids=["missing", "wrong", "bearer"],
)
def test_a_missing_or_wrong_token_is_a_401_with_keboolas_error_body(emulator, session, headers):
    for method, path in (("GET", "/search/jobs"), ("GET", "/jobs/1"), ("POST", "/jobs"), ("POST", "/jobs/1/kill")):
        response = session.request(method, f"{emulator.url}{path}", headers=headers, json={"component": "c"})
        assert_keboola_error(response, 401, "Invalid access token")


def test_create_answers_201_with_the_documented_fresh_job(kbc):
    job = kbc.create(mode="run", configRowIds=["12345"], tag="5.5.0")
    assert re.fullmatch(r"\d+", job["id"])
    assert (job["runId"], job["parentRunId"]) == (job["id"], "")
    assert (job["status"], job["desiredStatus"], job["isFinished"]) == ("created", "processing", False)
    assert (job["component"], job["config"], job["mode"], job["configRowIds"]) == (
        "keboola.ex-db-snowflake", "554424643", "run", ["12345"],
    )  # fmt: skip
    assert TIMESTAMP.fullmatch(job["createdTime"])
    assert (job["startTime"], job["endTime"], job["durationSeconds"]) == (None, None, 0)
    for empty_object in ("configData", "result", "usageData", "backend", "metrics"):
        assert job[empty_object] == [], empty_object
    assert job["url"] == f"{kbc.url}/jobs/{job['id']}"
    assert job["variableValuesData"] == {"values": []}
    assert job["type"] == "standard"


def test_ids_are_numeric_strings_in_creation_order(kbc):
    first, second = kbc.create()["id"], kbc.create()["id"]
    assert int(second) > int(first)


def test_run_id_header_makes_the_job_a_child_of_that_run(kbc):
    job = kbc.create(headers={"X-KBC-RunId": "123.456"})
    assert job["parentRunId"] == "123.456"
    assert job["runId"] == f"123.456.{job['id']}"
    assert kbc.job(job["id"])["runId"] == job["runId"]


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"config": "1"}, '"component" field is required'),
        ({"component": "c", "mode": "fast"}, 'Invalid mode "fast"'),
        ({"component": "c", "configRowIds": "1"}, "configRowIds"),
        ({"component": "c", "foo": 1}, "Unrecognized option(s) foo"),
        ({"component": "c", "delay": 1, "delayedStartTime": "2030-01-01"}, "cannot be used together"),
    ],
)
def test_an_invalid_create_body_is_a_400(kbc, body, text):
    assert_keboola_error(kbc.session.post(f"{kbc.url}/jobs", json=body), 400, text)


def test_a_create_body_that_is_not_an_object_is_a_400(kbc):
    response = kbc.session.post(f"{kbc.url}/jobs", data=b"[]", headers={"Content-Type": "application/json"})
    assert_keboola_error(response, 400, "JSON object")


def test_an_unknown_job_is_a_404(kbc):
    assert_keboola_error(kbc.session.get(f"{kbc.url}/jobs/123"), 404, 'Job "123" not found')
    assert_keboola_error(kbc.kill("123"), 404, 'Job "123" not found')


def test_a_job_goes_created_processing_success_with_a_result(kbc, emulator):
    emulator.script("keboola", queue_seconds=0.1, duration=0.5)
    job_id = kbc.create()["id"]
    processing = kbc.wait_status(job_id, "processing")
    assert processing["isFinished"] is False
    assert TIMESTAMP.fullmatch(processing["startTime"])
    done = kbc.wait_status(job_id, "success")
    assert done["isFinished"] is True
    assert TIMESTAMP.fullmatch(done["endTime"])
    assert done["result"]["message"] == "Component processing finished."
    assert isinstance(done["durationSeconds"], int)


@pytest.mark.parametrize("outcome", ["failed", "warning"])
def test_error_and_warning_jobs_carry_the_scripted_message_in_result(kbc, emulator, outcome):
    emulator.script("keboola", outcome=outcome, queue_seconds=0, duration=0, error="Table x not found")
    expected = "error" if outcome == "failed" else "warning"
    job = kbc.wait_status(kbc.create()["id"], expected)
    assert job["isFinished"] is True
    assert job["result"]["message"] == "Table x not found"
    assert job["result"]["error"]["type"] == "user"


def test_an_unknown_scripted_outcome_is_final_but_a_forced_one_is_not(kbc, emulator):
    emulator.script("keboola", outcome="mystery", queue_seconds=0, duration=0)
    scripted = kbc.wait_status(kbc.create()["id"], "mystery")
    emulator.script("keboola", queue_seconds=30)
    forced_id = kbc.create()["id"]
    emulator.force_state("keboola", forced_id, "suspended")
    assert scripted["isFinished"] is True
    assert kbc.job(forced_id)["isFinished"] is False


def test_killing_a_job_that_has_not_started_cancels_it_at_once(kbc, emulator):
    emulator.script("keboola", queue_seconds=30)
    job_id = kbc.create()["id"]
    response = kbc.kill(job_id)
    job = response.json()
    assert response.status_code == 202
    assert (job["status"], job["desiredStatus"], job["isFinished"]) == ("cancelled", "terminating", True)
    assert job["startTime"] is None


def test_killing_a_waiting_job_cancels_it(kbc, emulator):
    emulator.script("keboola", queue_seconds=30)
    job_id = kbc.create()["id"]
    emulator.force_state("keboola", job_id, "waiting")
    assert kbc.job(job_id)["isFinished"] is False
    assert kbc.kill(job_id).json()["status"] == "cancelled"


def test_killing_a_processing_job_terminates_it(kbc, emulator):
    emulator.script("keboola", queue_seconds=0, duration=30)
    job_id = kbc.create()["id"]
    kbc.wait_status(job_id, "processing")
    first, again = kbc.kill(job_id), kbc.kill(job_id)
    assert (first.status_code, first.json()["status"], first.json()["desiredStatus"]) == (
        202, "terminating", "terminating",
    )  # fmt: skip
    assert (again.status_code, again.json()["status"]) == (202, "terminating")
    done = kbc.wait_status(job_id, "terminated", timeout=3)
    assert done["isFinished"] is True
    assert done["startTime"] is not None


def test_killing_a_finished_job_is_a_400(kbc, emulator):
    emulator.script("keboola", queue_seconds=0, duration=0)
    job_id = kbc.create()["id"]
    kbc.wait_status(job_id, "success")
    assert_keboola_error(kbc.kill(job_id), 400, "already finished")


def test_requests_are_logged_under_the_keboola_api(kbc, emulator):
    kbc.job(kbc.create()["id"])
    assert [(entry["method"], entry["api"]) for entry in emulator.requests()] == [
        ("POST", "keboola"),
        ("GET", "keboola"),
    ]
