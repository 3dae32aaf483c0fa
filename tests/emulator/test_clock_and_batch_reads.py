"""The emulator's side of batched polling: a server clock that is off (timestamps, filters and the
``Date`` header follow it) and Acme's many-ids read (``?id=…&id=…``)."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import pytest
import requests

from airflow_jobs_provider.apis.values import epoch
from airflow_jobs_provider.emulator import EmulatorServer
from airflow_jobs_provider.emulator.airbyte.auth import CLIENT_ID
from airflow_jobs_provider.emulator.control.client import EmulatorControlError
from tests.support.emulator_http import Acme

AIRBYTE_CONNECTION = "5d3c4b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"


@pytest.mark.parametrize("offset", [-3600, 3600])
def test_the_apis_clock_runs_off_by_the_offset_and_reset_zeroes_it(
    emulator: EmulatorServer, acme: Acme, offset: int
) -> None:
    assert emulator.clock(offset)["offset_seconds"] == offset
    run = acme.create("nightly")
    response = acme.session.get(f"{acme.url}/runs/{run['id']}")

    served = parsedate_to_datetime(response.headers["Date"]).timestamp()
    created = epoch(response.json()["run"]["created"])
    assert created is not None and abs(created - (time.time() + offset)) < 5
    assert abs(served - (time.time() + offset)) < 5
    emulator.reset()
    assert emulator.clock()["offset_seconds"] == 0


def test_the_airbyte_list_filters_by_update_on_the_apis_clock(emulator: EmulatorServer, session: requests.Session):
    emulator.clock(-600)
    [job_id] = emulator.create_jobs("airbyte", 1, {"connectionId": AIRBYTE_CONNECTION})
    credentials = {"client_id": CLIENT_ID, "client_secret": emulator.token}
    token = session.post(f"{emulator.url}/v1/applications/token", json=credentials).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def listed(since: float) -> list[str]:
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since))
        answer = session.get(f"{emulator.url}/v1/jobs", params={"updatedAtStart": start, "orderBy": "updatedAt|DESC"},
                             headers=headers)  # fmt: skip
        return [str(job["jobId"]) for job in answer.json()["data"]]

    assert listed(time.time() - 660) == [job_id], "changed ten minutes ago by our clock: now by the API's"
    assert listed(time.time() - 60) == [], "a minute ago by our clock is in the API's future"


def test_a_clock_offset_must_be_a_number(emulator: EmulatorServer) -> None:
    with pytest.raises(EmulatorControlError, match="offset_seconds"):
        emulator.clock("soon")  # type: ignore[arg-type]


def test_acme_reads_runs_by_id(acme: Acme) -> None:
    runs = [acme.create("nightly")["id"] for _ in range(3)]

    answer = acme.session.get(f"{acme.url}/runs", params=[("id", runs[0]), ("id", runs[2]), ("id", "run-none")])

    assert sorted(run["id"] for run in answer.json()["runs"]) == sorted([runs[0], runs[2]])
    too_many = acme.session.get(f"{acme.url}/runs", params=[("id", f"run-{n}") for n in range(101)])
    assert too_many.status_code == 422 and "at most 100" in too_many.json()["message"]
