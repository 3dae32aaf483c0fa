"""Many finished jobs at once (``/_emulator/jobs/{api}``) and the list limits the real APIs have."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_jobs_provider.emulator import EmulatorServer
from airflow_jobs_provider.emulator.control.client import EmulatorControlError
from tests.support.emulator_http import Acme, Tinybird

KEBOOLA_SPEC = {"component": "keboola.ex-db-snowflake", "config": "554424643"}
AIRBYTE_SPEC = {"connectionId": "e735894a-e773-4938-969f-45f53957b75b", "jobType": "sync"}


def test_bulk_jobs_end_when_asked_and_show_through_the_api(emulator: EmulatorServer, tinybird: Tinybird) -> None:
    ids = emulator.create_jobs("tinybird", 5, {"kind": "copy", "pipe": "p"}, ends_in=-1, spread=0.5)
    jobs = tinybird.get("/v0/jobs").json()["jobs"]
    assert sorted(job["id"] for job in jobs) == sorted(ids)
    assert {job["status"] for job in jobs} == {"done"} and {job["pipe_name"] for job in jobs} == {"p"}
    later = emulator.create_jobs("tinybird", 2, {"kind": "copy", "pipe": "p"}, ends_in=30)
    assert {tinybird.get(f"/v0/jobs/{job_id}").json()["status"] for job_id in later} == {"working"}


@pytest.mark.parametrize(
    ("api", "spec"),
    [("keboola", KEBOOLA_SPEC), ("airbyte", AIRBYTE_SPEC), ("acme", {"task": "t"}), ("tinybird", {"pipe": "p"})],
)
def test_every_listing_api_makes_bulk_jobs(emulator: EmulatorServer, api: str, spec: dict[str, str]) -> None:
    ids = emulator.create_jobs(api, 3, spec, outcome="failed")
    jobs = {job["id"]: job for job in emulator.jobs(api)}
    assert set(ids) <= set(jobs) and all(jobs[job_id]["script"]["outcome"] == "failed" for job_id in ids)


@pytest.mark.parametrize(
    ("api", "body", "message"),
    [
        ("keboola", {"count": 0, "spec": KEBOOLA_SPEC}, "'count' must be a whole number"),
        ("keboola", {"count": 1, "spec": {"config": "1"}}, 'The "component" field is required'),
        ("airbyte", {"count": 1, "spec": {}}, "airbyte bulk jobs take"),
        ("keboola", {"count": 1, "spec": KEBOOLA_SPEC, "spread": -1}, "'spread' must be a number of seconds >= 0"),
        ("keboola", {"count": 1, "spec": KEBOOLA_SPEC, "times": 2}, "unknown field(s) times"),
        ("faktory", {"count": 1}, "cannot create jobs in bulk"),
    ],
)
def test_bad_bulk_requests_are_refused_with_the_problem_named(
    emulator: EmulatorServer, api: str, body: dict[str, object], message: str
) -> None:
    with pytest.raises(EmulatorControlError, match=message.replace("(", r"\(").replace(")", r"\)")):
        emulator._call("POST", f"/_emulator/jobs/{api}", body)


def test_tinybird_lists_only_its_100_newest_jobs_of_48_hours(emulator: EmulatorServer, tinybird: Tinybird) -> None:
    old = emulator.create_jobs("tinybird", 3, {"pipe": "p"}, ends_in=-49 * 3600)
    emulator.create_jobs("tinybird", 120, {"pipe": "p"}, ends_in=-1)
    listed = [job["id"] for job in tinybird.get("/v0/jobs").json()["jobs"]]
    assert len(listed) == 100 and not set(old) & set(listed)
    assert tinybird.get(f"/v0/jobs/{old[0]}").status_code == 404, "details leave the Jobs API after 48 h"
    sql = f"SELECT job_id, status FROM tinybird.jobs_log WHERE job_id = '{old[0]}' FORMAT JSON"
    assert tinybird.get("/v0/sql", q=sql).json()["data"] == [{"job_id": old[0], "status": "done"}]


def test_keboola_refuses_a_result_window_past_10000(emulator: EmulatorServer, session: requests.Session) -> None:
    headers = {"X-StorageApi-Token": emulator.token}
    answer = session.get(f"{emulator.url}/search/jobs", params={"offset": 9950, "limit": 100}, headers=headers)
    assert answer.status_code == 400 and "Result window is too large" in answer.json()["error"]


def test_acme_pages_its_runs_by_latest_update(emulator: EmulatorServer, acme: Acme) -> None:
    emulator.create_jobs("acme", 5, {"task": "t"}, ends_in=-10, spread=4)
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 8))
    runs = acme.session.get(f"{acme.url}/runs", params={"limit": 2, "offset": 1, "updated_after": since}).json()["runs"]
    assert len(runs) == 2 and runs[0]["updated"] >= runs[1]["updated"]
    assert acme.session.get(f"{acme.url}/runs", params={"limit": 101}).status_code == 422
