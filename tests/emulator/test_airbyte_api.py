"""The emulated Airbyte public API v1 (job-apis.md §3): real HTTP, the shapes and rules a client sees."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_jobs_provider.emulator import EmulatorServer
from airflow_jobs_provider.emulator.airbyte.auth import BASIC_USER, CLIENT_ID, DEFAULT_LIFETIME
from airflow_jobs_provider.emulator.airbyte.shapes import iso_duration
from tests.support.polling import poll_until

CONNECTION = "e735894a-e773-4938-969f-45f53957b75b"
OTHER_CONNECTION = "0b5e7a40-3d6e-4f5a-9a8e-6f1f2b3c4d5e"
ISO_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
ISO_DURATION = re.compile(r"PT(\d+H)?(\d+M)?(\d+(\.\d+)?S)?")
PROBLEM = "application/problem+json"


class Airbyte:
    """Calls the emulated API under /v1 with the emulator token as a static bearer token."""

    def __init__(self, emulator: EmulatorServer, session: requests.Session) -> None:
        self.emulator = emulator
        self.url = f"{emulator.url}/v1"
        self.session = session
        self.bearer = {"Authorization": f"Bearer {emulator.token}"}

    def create(self, connection: str = CONNECTION, job_type: str = "sync", **script: Any) -> dict[str, Any]:
        if script:
            self.emulator.script("airbyte", **script)
        answer = self.session.post(f"{self.url}/jobs", json={"connectionId": connection, "jobType": job_type},
                                   headers=self.bearer, timeout=10)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def job(self, job_id: int) -> dict[str, Any]:
        answer = self.session.get(f"{self.url}/jobs/{job_id}", headers=self.bearer, timeout=10)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def wait_status(self, job_id: int, *statuses: str, timeout: float = 5.0) -> dict[str, Any]:
        return poll_until(lambda: self.job(job_id), lambda job: job["status"] in statuses, timeout=timeout,
                        what=f"{statuses}")

    def token(self, **fields: Any) -> requests.Response:
        return self.session.post(f"{self.url}/applications/token", json=fields, timeout=10)

    def tokens(self, **change: Any) -> dict[str, Any]:
        url = f"{self.emulator.url}/_emulator/airbyte/tokens"
        answer = self.session.post(url, json=change, timeout=10) if change else self.session.get(url, timeout=10)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


@pytest.fixture
def airbyte(emulator: EmulatorServer, session: requests.Session) -> Iterator[Airbyte]:
    client = Airbyte(emulator, session)
    yield client
    client.tokens(lifetime=DEFAULT_LIFETIME, revoke=True)  # the token settings outlive /_emulator/reset


def assert_problem(answer: requests.Response, status: int, title: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith(PROBLEM)
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["title"] == title
    assert body["type"].endswith(f"#{title}")
    assert body["detail"]
    return body


# ---------------------------------------------------------------- tokens

def test_client_credentials_in_json_give_a_bearer_token_with_a_lifetime(airbyte):
    grant = {"grant-type": "client_credentials"}  # the OpenAPI schema's spelling
    answer = airbyte.token(client_id=CLIENT_ID, client_secret=airbyte.emulator.token, **grant)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900 and isinstance(body["expires_in"], int)
    assert airbyte.session.get(f"{airbyte.url}/jobs", headers={"Authorization": f"Bearer {body['access_token']}"},
                               timeout=10).status_code == 200


def test_the_sdk_form_body_and_the_docs_bare_json_body_are_accepted_too(airbyte):
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": airbyte.emulator.token}
    assert airbyte.session.post(f"{airbyte.url}/applications/token", data=form, timeout=10).status_code == 200
    assert airbyte.token(client_id=CLIENT_ID, client_secret=airbyte.emulator.token).status_code == 200


@pytest.mark.parametrize(
    ("fields", "status", "title"),
    [
        ({"client_id": CLIENT_ID, "client_secret": "wrong"}, 403, "forbidden"),
        ({"client_id": "someone-else", "client_secret": "{token}"}, 403, "forbidden"),
        ({"client_id": CLIENT_ID}, 400, "bad-request"),
        ({"client_id": CLIENT_ID, "client_secret": "{token}", "grant_type": "password"}, 400, "bad-request"),
    ],
)
def test_bad_token_requests_are_problems(airbyte, fields, status, title):
    fields = {key: value.replace("{token}", airbyte.emulator.token) for key, value in fields.items()}
    assert_problem(airbyte.token(**fields), status, title)


def test_access_tokens_expire_after_the_configured_lifetime(airbyte):
    assert airbyte.tokens(lifetime=0.3)["lifetime"] == 0.3
    body = airbyte.token(client_id=CLIENT_ID, client_secret=airbyte.emulator.token).json()
    assert body["expires_in"] == 0.3
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    expired = poll_until(lambda: airbyte.session.get(f"{airbyte.url}/jobs", headers=headers, timeout=10),
                       lambda answer: answer.status_code != 200, what="the token to expire")
    assert "expired" in assert_problem(expired, 401, "invalid-api-key")["detail"]
    assert airbyte.tokens()["issued"] >= 1


def test_revoked_tokens_are_refused(airbyte):
    token = airbyte.token(client_id=CLIENT_ID, client_secret=airbyte.emulator.token).json()["access_token"]
    assert airbyte.tokens(revoke=True)["live"] == 0
    answer = airbyte.session.get(f"{airbyte.url}/jobs", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert_problem(answer, 401, "invalid-api-key")


@pytest.mark.parametrize("change", [{"lifetime": 0}, {"lifetime": "1"}, {"lifetime": True}, {"ttl": 5}])
def test_the_token_control_refuses_bad_settings(airbyte, change):
    answer = airbyte.session.post(f"{airbyte.emulator.url}/_emulator/airbyte/tokens", json=change, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]


# ---------------------------------------------------------------- auth on the API

def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize(
    ("headers", "ok"),
    [
        ({}, False),
        ({"Authorization": "Bearer {token}"}, True),
        ({"Authorization": "bearer {token}"}, True),
        ({"Authorization": "Bearer nope"}, False),
        ({"Authorization": "{token}"}, False),
        ("basic", True),
        ("basic-wrong-user", False),
        ({"Authorization": "Basic !!!"}, False),
    ],
)
def test_the_api_takes_the_static_token_or_basic_auth(airbyte, headers, ok):
    token = airbyte.emulator.token
    if headers == "basic":
        headers = basic(BASIC_USER, token)
    elif headers == "basic-wrong-user":
        headers = basic("admin", token)
    else:
        headers = {key: value.replace("{token}", token) for key, value in headers.items()}
    answer = airbyte.session.get(f"{airbyte.url}/jobs", headers=headers, timeout=10)
    if ok:
        assert answer.status_code == 200
    else:
        assert_problem(answer, 401, "invalid-api-key")


# ---------------------------------------------------------------- jobs

def test_a_created_job_is_a_complete_job_response(airbyte):
    job = airbyte.create(job_type="sync", queue_seconds=0.2, duration=0.5)
    assert set(job) >= {"jobId", "status", "jobType", "startTime", "connectionId", "lastUpdatedAt", "duration",
                        "bytesSynced", "rowsSynced"}
    assert isinstance(job["jobId"], int)
    assert (job["status"], job["jobType"], job["connectionId"]) == ("pending", "sync", CONNECTION)
    assert ISO_SECONDS.fullmatch(job["startTime"]) and ISO_SECONDS.fullmatch(job["lastUpdatedAt"])
    assert job["duration"] == "PT0S"
    assert (job["bytesSynced"], job["rowsSynced"]) == (0, 0)


def test_a_sync_runs_then_succeeds_with_rows_bytes_and_a_duration(airbyte):
    job = airbyte.create(queue_seconds=0.1, duration=0.6)
    running = airbyte.wait_status(job["jobId"], "running")
    done = airbyte.wait_status(job["jobId"], "succeeded")
    assert ISO_DURATION.fullmatch(running["duration"])
    assert done["rowsSynced"] > 0 and done["bytesSynced"] > done["rowsSynced"]
    assert done["duration"] == "PT0.7S"  # queue + work, from creation to the last update


def test_a_failing_job_is_incomplete_while_airbyte_retries_then_failed(airbyte):
    job = airbyte.create(outcome="failed", queue_seconds=0, duration=0.8)
    seen = set()
    poll_until(lambda: seen.add(airbyte.job(job["jobId"])["status"]) or seen, lambda s: "failed" in s,
             what="the job to fail")
    assert {"running", "incomplete", "failed"} <= seen


def test_incomplete_can_be_scripted_as_a_raw_outcome_and_forced(airbyte):
    job = airbyte.create(outcome="incomplete", queue_seconds=0, duration=0)
    assert airbyte.wait_status(job["jobId"], "incomplete")["status"] == "incomplete"
    other = airbyte.create(connection=OTHER_CONNECTION, queue_seconds=30)
    airbyte.emulator.force_state("airbyte", str(other["jobId"]), "incomplete")
    assert airbyte.job(other["jobId"])["status"] == "incomplete"


@pytest.mark.parametrize(
    ("body", "status", "title"),
    [
        ({"jobType": "sync"}, 400, "bad-request"),
        ({"connectionId": "nope", "jobType": "sync"}, 400, "bad-request"),
        ({"connectionId": CONNECTION, "jobType": "copy"}, 400, "bad-request"),
        ({"connectionId": CONNECTION, "jobType": "refresh"}, 422, "unprocessable-entity"),
        ("not json", 400, "bad-request"),
    ],
)
def test_bad_creations_are_problems(airbyte, body, status, title):
    kwargs: dict[str, Any] = {"json": body} if isinstance(body, dict) else {"data": body}
    answer = airbyte.session.post(f"{airbyte.url}/jobs", headers=airbyte.bearer, timeout=10, **kwargs)
    assert_problem(answer, status, title)


def test_a_second_job_for_a_busy_connection_is_a_conflict(airbyte):
    first = airbyte.create(queue_seconds=30)
    answer = airbyte.session.post(f"{airbyte.url}/jobs", json={"connectionId": CONNECTION, "jobType": "reset"},
                                  headers=airbyte.bearer, timeout=10)
    assert CONNECTION in assert_problem(answer, 409, "state-conflict")["detail"]
    airbyte.create(connection=OTHER_CONNECTION)  # other connections are free
    airbyte.session.delete(f"{airbyte.url}/jobs/{first['jobId']}", headers=airbyte.bearer, timeout=10)
    assert airbyte.create(job_type="reset")["jobType"] == "reset"


def test_unknown_and_malformed_job_ids(airbyte):
    missing = airbyte.session.get(f"{airbyte.url}/jobs/999999", headers=airbyte.bearer, timeout=10)
    assert_problem(missing, 404, "resource-not-found")
    malformed = airbyte.session.get(f"{airbyte.url}/jobs/abc", headers=airbyte.bearer, timeout=10)
    assert_problem(malformed, 400, "bad-request")


def test_delete_cancels_an_active_job_at_once_and_an_ended_one_is_a_conflict(airbyte):
    job = airbyte.create(queue_seconds=0, duration=30)
    airbyte.wait_status(job["jobId"], "running")
    answer = airbyte.session.delete(f"{airbyte.url}/jobs/{job['jobId']}", headers=airbyte.bearer, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"
    assert airbyte.job(job["jobId"])["status"] == "cancelled"
    again = airbyte.session.delete(f"{airbyte.url}/jobs/{job['jobId']}", headers=airbyte.bearer, timeout=10)
    assert_problem(again, 409, "state-conflict")
    gone = airbyte.session.delete(f"{airbyte.url}/jobs/424242", headers=airbyte.bearer, timeout=10)
    assert_problem(gone, 404, "resource-not-found")


# ---------------------------------------------------------------- list

def test_list_filters_orders_and_pages_with_full_next_and_previous_urls(airbyte):
    ids = [airbyte.create(connection=connection, outcome="succeeded", queue_seconds=0, duration=0)["jobId"]
           for connection in (CONNECTION, OTHER_CONNECTION)]
    for _ in range(3):
        airbyte.wait_status(ids[0], "succeeded")
        ids.append(airbyte.create(queue_seconds=0, duration=0)["jobId"])

    def listed(**params: Any) -> dict[str, Any]:
        answer = airbyte.session.get(f"{airbyte.url}/jobs", params=params, headers=airbyte.bearer, timeout=10)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    assert [job["jobId"] for job in listed()["data"]] == ids
    assert [job["jobId"] for job in listed(orderBy="createdAt|DESC")["data"]] == ids[::-1]
    assert [job["jobId"] for job in listed(connectionId=OTHER_CONNECTION)["data"]] == [ids[1]]
    assert listed(jobType="reset")["data"] == []
    assert listed(status="succeeded", workspaceIds=[OTHER_CONNECTION, CONNECTION])["data"]
    assert listed(createdAtStart="2999-01-01T00:00:00Z")["data"] == []
    assert len(listed(createdAtEnd=str(int((time.time() + 60) * 1000)))["data"]) == 5
    page = listed(limit=2, offset=2)
    assert [job["jobId"] for job in page["data"]] == ids[2:4]
    assert page["next"].startswith(f"{airbyte.url}/jobs?") and "offset=4" in page["next"]
    assert "limit=2" in page["next"] and "offset=0" in page["previous"]
    last = airbyte.session.get(page["next"], headers=airbyte.bearer, timeout=10).json()
    assert [job["jobId"] for job in last["data"]] == ids[4:] and "next" not in last


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"orderBy": "name|ASC"}, {"status": "done"},
     {"jobType": "copy"}, {"connectionId": "x"}, {"createdAtStart": "yesterday"}],
)
def test_bad_list_parameters_are_problems(airbyte, params):
    answer = airbyte.session.get(f"{airbyte.url}/jobs", params=params, headers=airbyte.bearer, timeout=10)
    assert_problem(answer, 400, "bad-request")


def test_the_access_log_names_the_api_and_never_holds_a_token(airbyte):
    token = airbyte.token(client_id=CLIENT_ID, client_secret=airbyte.emulator.token).json()["access_token"]
    airbyte.session.get(f"{airbyte.url}/jobs", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    log = airbyte.emulator.requests()
    assert [(entry["method"], entry["path"], entry["api"]) for entry in log] == [
        ("POST", "/v1/applications/token", "airbyte"), ("GET", "/v1/jobs", "airbyte")]
    assert token not in str(log) and airbyte.emulator.token not in str(log)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "PT0S"), (1.5, "PT1.5S"), (62, "PT1M2S"), (29172.345, "PT8H6M12.345S"), (3600, "PT1H")]
)
def test_durations_are_written_as_java_writes_them(seconds, text):
    assert iso_duration(seconds) == text
