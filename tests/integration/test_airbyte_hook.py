"""JobsHook and JobStatusTrigger on an Airbyte connection, over real HTTP to the emulator.

Every auth mode (client credentials, bearer, basic) in sync and async code, the renewal of
access tokens that expire while a deferrable watch runs, and a revoked token renewed once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.emulator.airbyte.auth import BASIC_USER, DEFAULT_LIFETIME
from airflow_jobs_provider.exceptions import JobNotFoundError, JobsAuthError
from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.triggers.jobs import JobStatusTrigger
from tests.conftest import TOKEN
from tests.support.polling import poll_until
from tests.support.trigger_store import rebuilt

CONNECTION = "e735894a-e773-4938-969f-45f53957b75b"
SYNC = {"connectionId": CONNECTION, "jobType": "sync"}
CONN_IDS = {"client_credentials": "jobs_airbyte", "bearer": "jobs_airbyte_bearer", "basic": "jobs_airbyte_basic"}
TOKEN_PATH = "/v1/applications/token"


@pytest.fixture
def airbyte(live: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The emulator with one Airbyte connection per auth mode; token settings restored afterwards."""

    def conn(**fields: Any) -> str:
        return json.dumps({"conn_type": "jobs", "host": f"{live.url}/v1", **fields})

    monkeypatch.setenv("AIRFLOW_CONN_JOBS_AIRBYTE_BEARER", conn(password=TOKEN, extra={"api": "airbyte"}))
    monkeypatch.setenv(
        "AIRFLOW_CONN_JOBS_AIRBYTE_BASIC",
        conn(login=BASIC_USER, password=TOKEN, extra={"api": "airbyte", "auth": "basic"}),
    )
    yield live
    token_control(live, lifetime=DEFAULT_LIFETIME, revoke=True)


def token_control(emulator: Any, **change: Any) -> dict[str, Any]:
    with requests.Session() as http:
        http.trust_env = False
        answer = http.post(f"{emulator.url}/_emulator/airbyte/tokens", json=change, timeout=10)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def token_calls(emulator: Any) -> int:
    return sum(1 for entry in emulator.requests() if entry["path"] == TOKEN_PATH)


@pytest.mark.parametrize("mode", CONN_IDS)
def test_sync_hook_runs_lists_and_cancels_jobs_in_every_auth_mode(airbyte, mode):
    airbyte.script("airbyte", queue_seconds=0.1, duration=0.5)
    airbyte.script("airbyte", queue_seconds=0, duration=30)
    hook = JobsHook(CONN_IDS[mode])

    started = hook.start_job(SYNC)
    assert (started.status, started.raw_status) == (JobStatus.PENDING, "pending")
    assert started.url == f"{airbyte.url}/v1/jobs/{started.job_id}"
    done = poll_until(
        lambda: hook.get_job(started.job_id),
        lambda job: job.status.is_terminal,
        timeout=10.0,
        interval=0.05,
        what="the job to end",
        describe=Job.describe,
    )
    assert done.status is JobStatus.SUCCEEDED
    assert done.payload["rowsSynced"] > 0 and done.payload["duration"].startswith("PT")
    assert hook.get_job(int(started.job_id)) == done, "the Airbyte provider's int job ids work as they are"

    other = hook.start_job({"connectionId": "0b5e7a40-3d6e-4f5a-9a8e-6f1f2b3c4d5e", "jobType": "reset"})
    assert [job.job_id for job in hook.list_jobs(connectionId=CONNECTION)] == [started.job_id]
    assert hook.cancel_job(other.job_id).status is JobStatus.CANCELLED
    assert hook.test_connection() == (True, f"Connected to the airbyte API at {airbyte.url}/v1 (auth: {mode})")
    assert token_calls(airbyte) == (1 if mode == "client_credentials" else 0), "one token for the hook's life"


@pytest.mark.parametrize("mode", CONN_IDS)
async def test_async_hook_watches_and_cancels_in_every_auth_mode(airbyte, mode):
    airbyte.script("airbyte", queue_seconds=0, duration=30)
    async with JobsHook(CONN_IDS[mode]) as hook:
        started = await hook.astart_job(SYNC)
        read = await hook.aget_job(started.job_id)
        assert read.job_id == started.job_id
        cancelled = await hook.acancel_job(started.job_id)
        assert cancelled.status is JobStatus.CANCELLED
        listed = await hook.alist_jobs(status="cancelled")
        assert [job.job_id for job in listed] == [started.job_id]
        with pytest.raises(JobNotFoundError, match="airbyte has no job 424242"):
            await hook.aget_job("424242")


def test_a_revoked_token_is_renewed_once_and_the_call_goes_through(airbyte):
    hook = JobsHook("jobs_airbyte")
    job = hook.start_job(SYNC)
    token_control(airbyte, revoke=True)

    assert hook.get_job(job.job_id).job_id == job.job_id

    calls = [(entry["method"], entry["path"], entry["status"]) for entry in airbyte.requests()]
    assert calls[-3:] == [("GET", f"/v1/jobs/{job.job_id}", 401), ("POST", TOKEN_PATH, 200),
                          ("GET", f"/v1/jobs/{job.job_id}", 200)]


def test_access_tokens_are_registered_with_the_secrets_masker(airbyte, mocker):
    masked: list[str] = []
    mocker.patch("airflow.providers.common.compat.sdk.mask_secret", side_effect=masked.append)
    token_control(airbyte, lifetime=0.3)
    hook = JobsHook("jobs_airbyte")
    job = hook.start_job(SYNC)
    poll_until(hook.api.tokens.current, lambda token: token is None, what="the token to be due for renewal")
    hook.get_job(job.job_id)

    assert TOKEN in masked, "the client secret (the connection's password)"
    access_tokens = [secret for secret in masked if secret.startswith("abt_")]
    assert len(access_tokens) == 2 == token_calls(airbyte)


@pytest.mark.parametrize("mode", CONN_IDS)
def test_wrong_credentials_fail_the_connection_test_without_the_secret(airbyte, monkeypatch, mode):
    fields = {"bearer": {}, "basic": {"login": BASIC_USER, "extra": {"api": "airbyte", "auth": "basic"}},
              "client_credentials": {"login": "emulator-client"}}[mode]
    secret = "wrong-secret-9d2f"
    conn = {"conn_type": "jobs", "host": f"{airbyte.url}/v1", "password": secret, "extra": {"api": "airbyte"}, **fields}
    monkeypatch.setenv("AIRFLOW_CONN_JOBS_AIRBYTE_WRONG", json.dumps(conn))

    ok, message = JobsHook("jobs_airbyte_wrong").test_connection()

    assert ok is False
    assert secret not in message
    assert "airbyte refused" in message
    with pytest.raises(JobsAuthError):
        JobsHook("jobs_airbyte_wrong").start_job(SYNC)


# ---------------------------------------------------------------- deferrable watch, tokens expiring


async def test_a_long_deferrable_watch_outlives_its_access_tokens(airbyte, mocker):
    token_control(airbyte, lifetime=1.0)
    airbyte.script("airbyte", queue_seconds=0.1, duration=3.0)
    job_id = JobsHook("jobs_airbyte").start_job(SYNC).job_id
    before = token_calls(airbyte)
    trigger = rebuilt(JobStatusTrigger(job_id=job_id, jobs_conn_id="jobs_airbyte", poll_interval=0.2))
    assert TOKEN not in repr(trigger.serialize())
    # token renewals inside the triggerer must not fall back to blocking HTTP
    mocker.patch.object(requests.Session, "request", side_effect=AssertionError("blocking call in the trigger"))

    events = [event.payload async for event in trigger.run()]

    assert [event["status"] for event in events] == ["success"]
    assert events[0]["job"]["raw_status"] == "succeeded"
    renewals = token_calls(airbyte) - before
    assert renewals >= 2, f"a 3 s watch on 1 s tokens must fetch several tokens, fetched {renewals}"
    gets = [entry for entry in airbyte.requests() if entry["path"] == f"/v1/jobs/{job_id}"]
    assert gets[-1]["status"] == 200
