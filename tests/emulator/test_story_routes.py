"""The routes behind the job's story: Keboola's Storage API events, Tinybird's ops logs, Airbyte's
Config API attempts and the Acme run log, as a client sees them."""

from __future__ import annotations

import time
from typing import Any

import requests

from airflow_jobs_provider.emulator import EmulatorServer

TOKEN = "test-token"
KEBOOLA = {"X-StorageApi-Token": TOKEN}
SPEC = {"component": "keboola.ex-db-snowflake", "config": "1"}


def until(read: Any, done: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not done(value := read()):
        assert time.monotonic() < deadline, f"still {value}"
        time.sleep(0.05)
    return value


def test_keboola_events_are_newest_first_per_run_and_page_with_since_and_max_id(emulator: EmulatorServer, session):
    emulator.script("keboola", outcome="failed", queue_seconds=0, duration=0.2, error="disk full", progress=[50])
    job = session.post(f"{emulator.url}/jobs", json=SPEC, headers=KEBOOLA).json()
    session.post(f"{emulator.url}/jobs", json=SPEC, headers=KEBOOLA)  # another run: not in the answer

    def events(**params: str) -> list[dict[str, Any]]:
        answer = session.get(
            f"{emulator.url}/v2/storage/events", params={"runId": job["runId"], **params}, headers=KEBOOLA
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    every = until(events, lambda found: any(event["type"] == "error" for event in found))
    ids = [int(event["id"]) for event in every]
    assert ids == sorted(ids, reverse=True) and {event["runId"] for event in every} == {job["runId"]}
    assert [event["type"] for event in every][:2] == ["info", "error"] and every[1]["message"] == "disk full"
    assert [int(event["id"]) for event in events(sinceId=str(ids[2]))] == ids[:2]
    assert [int(event["id"]) for event in events(maxId=str(ids[1]), limit="1")] == [ids[1]]


def test_keboola_events_refuse_bad_parameters_and_tokens(emulator: EmulatorServer, session: requests.Session):
    bad = session.get(f"{emulator.url}/v2/storage/events", params={"limit": "-1"}, headers=KEBOOLA)
    assert bad.status_code == 400 and bad.json()["status"] == "error" and "limit" in bad.json()["error"]
    assert session.get(f"{emulator.url}/v2/storage/events", headers={"X-StorageApi-Token": "nope"}).status_code == 401


def test_tinybird_ops_logs_hold_a_row_for_each_ended_import_copy_or_sink(emulator: EmulatorServer, session, tinybird):
    emulator.script("tinybird", outcome="failed", queue_seconds=0, duration=0.1, error="bad CSV")
    job = tinybird.post("/v0/datasources", name="events", url="https://x/e.csv").json()
    tinybird.wait_status(job["id"], "error")
    sql = (
        f"SELECT job_id, result, error, rows FROM tinybird.datasources_ops_log WHERE job_id = '{job['id']}' FORMAT JSON"
    )
    answer = tinybird.get("/v0/sql", q=sql).json()
    assert answer["data"] == [{"job_id": job["id"], "result": "error", "error": "bad CSV", "rows": 0}]
    assert [column["name"] for column in answer["meta"]] == ["job_id", "result", "error", "rows"]
    sinks = tinybird.get("/v0/sql", q="SELECT * FROM tinybird.sinks_ops_log FORMAT JSON").json()
    assert sinks["data"] == []


def test_airbyte_config_api_answers_attempts_with_failures_and_logs(emulator: EmulatorServer, session):
    emulator.script("airbyte", outcome="failed", queue_seconds=0, duration=0.2, error="source down")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = {"connectionId": "9b5a3a4e-0b7f-4c4e-9a51-2b0f4f6c1d11", "jobType": "sync"}
    job = session.post(f"{emulator.url}/v1/jobs", json=body, headers=auth).json()

    def info() -> dict[str, Any]:
        return session.post(f"{emulator.url}/api/v1/jobs/get", json={"id": job["jobId"]}, headers=auth).json()

    done = until(info, lambda found: found["job"]["status"] == "failed")
    assert [entry["attempt"]["status"] for entry in done["attempts"]] == ["failed", "failed"]
    failure = done["attempts"][1]["attempt"]["failureSummary"]["failures"][0]
    assert (failure["failureOrigin"], failure["externalMessage"]) == ("source", "source down")
    assert done["attempts"][1]["logs"]["logLines"][-1].endswith("source > ERROR source down")
    missing = session.post(f"{emulator.url}/api/v1/jobs/get", json={"id": 999}, headers=auth)
    wrong = session.post(f"{emulator.url}/api/v1/jobs/get", json={"id": "1"}, headers=auth)
    assert (missing.status_code, wrong.status_code) == (404, 422) and "message" in wrong.json()
    assert session.post(f"{emulator.url}/api/v1/jobs/get", json={"id": 1}).status_code == 401


def test_acme_run_log_grows_oldest_first(emulator: EmulatorServer, session, acme):
    emulator.script("acme", queue_seconds=0, duration=0.2)
    run = acme.create()
    acme.wait_state(run["id"], "SUCCEEDED")
    entries = session.get(f"{emulator.url}/acme/v2/runs/{run['id']}/log", headers={"X-Api-Key": TOKEN}).json()[
        "entries"
    ]
    assert (
        entries[0]["message"].startswith(f"run {run['id']} queued") and entries[-1]["message"] == "run ended SUCCEEDED"
    )
