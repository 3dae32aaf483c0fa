"""Tinybird token rules: ``token`` parameter first, else ``Authorization: Bearer``; 403 otherwise."""

from __future__ import annotations

import pytest
import requests

from airflow_jobs_provider.emulator import EmulatorServer

FORBIDDEN = {
    "error": "invalid authentication token",
    "documentation": "https://docs.tinybird.co/api-reference/overview#authentication",
}


def test_token_in_the_query_string_is_accepted(emulator: EmulatorServer, session: requests.Session) -> None:
    response = session.get(f"{emulator.url}/v0/jobs", params={"token": emulator.token})
    assert response.status_code == 200
    assert response.json() == {"jobs": []}


def test_bearer_header_is_accepted(emulator: EmulatorServer, session: requests.Session) -> None:
    response = session.get(f"{emulator.url}/v0/jobs", headers={"Authorization": f"Bearer {emulator.token}"})
    assert response.status_code == 200


def test_query_token_wins_over_a_good_header(emulator: EmulatorServer, session: requests.Session) -> None:
    response = session.get(
        f"{emulator.url}/v0/jobs",
        params={"token": "wrong"},
        headers={"Authorization": f"Bearer {emulator.token}"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Token {token}"},
        {"Authorization": "Bearer {token} extra"},
        {"Authorization": "bearer {token}"},
        {"Authorization": "{token}"},
    ],
    ids=["missing", "wrong", "other-scheme", "three-parts", "lower-case-scheme", "no-scheme"],
)
def test_missing_or_malformed_credentials_get_403_in_tinybird_shape(
    emulator: EmulatorServer, session: requests.Session, headers: dict[str, str]
) -> None:
    sent = {name: value.format(token=emulator.token) for name, value in headers.items()}
    response = session.get(f"{emulator.url}/v0/jobs/some-id", headers=sent)
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == FORBIDDEN


def test_every_tinybird_endpoint_needs_the_token(emulator: EmulatorServer, session: requests.Session) -> None:
    calls = [
        ("POST", "/v0/pipes/p/copy"),
        ("POST", "/v0/pipes/p/sink"),
        ("POST", "/v0/pipes/p/nodes/n/population"),
        ("POST", "/v0/datasources?name=d&url=https://x/y.csv"),
        ("POST", "/v0/jobs/x/cancel"),
        ("GET", "/v0/sql?q=SELECT+*+FROM+tinybird.jobs_log+FORMAT+JSON"),
    ]
    statuses = [session.request(method, f"{emulator.url}{path}").status_code for method, path in calls]
    assert statuses == [403] * len(calls)
    assert emulator.jobs() == []


def test_form_body_token_counts_as_the_token_parameter(emulator: EmulatorServer, session: requests.Session) -> None:
    sql = "SELECT job_id FROM tinybird.jobs_log FORMAT JSON"
    response = session.post(f"{emulator.url}/v0/sql", data={"token": emulator.token, "q": sql})
    assert response.status_code == 200
    assert response.json()["rows"] == 0
