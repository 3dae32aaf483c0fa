"""Airbyte's own Python SDK (``airbyte-api`` 1.0.x) works against the emulated API.

The SDK is generated from Airbyte's OpenAPI spec and validates every answer with pydantic, so a
job it can create, read, list and cancel here proves the emulator's paths and shapes. It runs in
our venv (its dependencies, httpx and pydantic 2, agree with Airflow's); it is a test extra.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from airbyte_api import AirbyteAPI, api, errors, models

from airflow_jobs_provider.emulator import EmulatorServer, run_emulator
from airflow_jobs_provider.emulator.airbyte.auth import BASIC_USER, CLIENT_ID
from tests.support.polling import poll_until

CONNECTION = "e735894a-e773-4938-969f-45f53957b75b"


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    """An emulator of its own: the SDK caches tokens per client id and secret for the whole process."""
    with run_emulator(token=f"sdk-{uuid.uuid4().hex}") as running:
        yield running


@pytest.fixture
def emulator(server: EmulatorServer) -> EmulatorServer:
    server.reset()
    return server


def sdk(emulator: EmulatorServer, security: models.Security) -> AirbyteAPI:
    # trust_env=False: loopback calls never go through a proxy from the environment
    return AirbyteAPI(server_url=f"{emulator.url}/v1", security=security, client=httpx.Client(trust_env=False))


def client_credentials(emulator: EmulatorServer) -> models.Security:
    # The SDK's default token_url ("/applications/token") is joined to the host root, not to /v1.
    credentials = models.SchemeClientCredentials(
        client_id=CLIENT_ID, client_secret=emulator.token, token_url=f"{emulator.url}/v1/applications/token"
    )
    return models.Security(client_credentials=credentials)


SECURITIES = {
    "client_credentials": client_credentials,
    "bearer": lambda emulator: models.Security(bearer_auth=emulator.token),
    "basic": lambda emulator: models.Security(
        basic_auth=models.SchemeBasicAuth(username=BASIC_USER, password=emulator.token)
    ),
}


@pytest.mark.parametrize("auth", SECURITIES)
def test_the_sdk_creates_reads_lists_and_cancels_a_job(emulator, auth):
    emulator.script("airbyte", queue_seconds=0.1, duration=30)
    client = sdk(emulator, SECURITIES[auth](emulator))

    created = client.jobs.create_job(request=models.JobCreateRequest(connection_id=CONNECTION,
                                                                      job_type=models.JobTypeEnum.SYNC))
    job = created.job_response
    assert job is not None
    assert (job.status, job.job_type, job.connection_id) == (models.JobStatusEnum.PENDING, "sync", CONNECTION)

    def read() -> Any:
        answer = client.jobs.get_job(request=api.GetJobRequest(job_id=job.job_id)).job_response
        assert answer is not None
        return answer

    running = poll_until(read, lambda found: found.status == models.JobStatusEnum.RUNNING, what="running")
    assert running.duration and running.duration.startswith("PT")
    assert running.rows_synced is not None and running.bytes_synced is not None

    listed = client.jobs.list_jobs(request=api.ListJobsRequest(connection_id=CONNECTION, limit=5)).jobs_response
    assert listed is not None
    assert [found.job_id for found in listed.data] == [job.job_id]

    cancelled = client.jobs.cancel_job(request=api.CancelJobRequest(job_id=job.job_id)).job_response
    assert cancelled is not None and cancelled.status == models.JobStatusEnum.CANCELLED
    assert read().status == models.JobStatusEnum.CANCELLED

    paths = [entry["path"] for entry in emulator.requests()]
    assert ("/v1/applications/token" in paths) == (auth == "client_credentials")


def test_the_sdk_sees_problem_errors_with_their_status(emulator):
    client = sdk(emulator, models.Security(bearer_auth=emulator.token))
    with pytest.raises(errors.SDKError) as missing:
        client.jobs.get_job(request=api.GetJobRequest(job_id=424242))
    assert missing.value.status_code == 404
    assert "resource-not-found" in missing.value.body

    wrong = sdk(emulator, models.Security(bearer_auth="not-the-token"))
    with pytest.raises(errors.SDKError) as refused:
        wrong.jobs.list_jobs(request=api.ListJobsRequest())
    assert refused.value.status_code == 401
