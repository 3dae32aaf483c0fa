"""The access log: one entry per API request, tokens redacted, one peer per TCP connection."""

from __future__ import annotations

import json

import requests

from airflow_jobs_provider.emulator import EmulatorServer
from airflow_jobs_provider.emulator.core.access_log import redacted_path
from tests.support.emulator_http import Tinybird


def test_redaction_replaces_every_token_value_and_keeps_the_rest() -> None:
    assert redacted_path("/v0/jobs", "kind=copy&token=s3cret&x=1&token") == "/v0/jobs?kind=copy&token=***&x=1&token=***"
    assert redacted_path("/v0/jobs", "to%6Ben=s3cret") == "/v0/jobs?to%6Ben=***"
    assert redacted_path("/v0/jobs", "") == "/v0/jobs"


def test_entries_record_method_path_status_peer_and_api(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    job_id = tinybird.copy("p", day="1")["id"]
    tinybird.get(f"/v0/jobs/{job_id}")
    tinybird.session.get(f"{emulator.url}/acme/v2/runs")
    tinybird.session.get(f"{emulator.url}/nowhere")
    entries = emulator.requests()
    assert [(e["method"], e["path"], e["status"], e["api"]) for e in entries] == [
        ("POST", "/v0/pipes/p/copy?token=***&day=1", 200, "tinybird"),
        ("GET", f"/v0/jobs/{job_id}?token=***", 200, "tinybird"),
        ("GET", "/acme/v2/runs", 401, "acme"),
        ("GET", "/nowhere", 404, None),
    ]
    assert entries[0]["peer"].startswith("127.0.0.1:")


def test_tokens_never_reach_the_log(emulator: EmulatorServer, session: requests.Session) -> None:
    session.get(f"{emulator.url}/v0/jobs", headers={"Authorization": f"Bearer {emulator.token}"})
    session.get(f"{emulator.url}/v0/jobs", params={"token": emulator.token})
    session.get(f"{emulator.url}/acme/v2/runs", headers={"X-Api-Key": emulator.token})
    log = json.dumps(emulator.requests())
    assert emulator.token not in log
    assert log.count("***") == 1


def test_peers_tell_connections_apart(emulator: EmulatorServer) -> None:
    url = f"{emulator.url}/v0/jobs?token={emulator.token}"
    with requests.Session() as keep_alive:
        keep_alive.trust_env = False
        keep_alive.get(url)
        keep_alive.get(url)
    with requests.Session() as other:
        other.trust_env = False
        other.get(url)
    peers = [entry["peer"] for entry in emulator.requests()]
    assert peers[0] == peers[1] != peers[2]


def test_control_calls_are_not_logged(emulator: EmulatorServer) -> None:
    emulator.jobs()
    emulator.script("tinybird")
    assert emulator.requests() == []
