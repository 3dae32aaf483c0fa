"""Clients of the emulated Tinybird and Acme Batch APIs for the emulator tests: real requests, no mocks."""

from __future__ import annotations

from typing import Any

import requests

from airflow_jobs_provider.emulator import EmulatorServer
from tests.support.polling import poll_until


class Tinybird:
    """Calls the emulated Tinybird API with the token in the query string (as TinyB does)."""

    def __init__(self, emulator: EmulatorServer, session: requests.Session) -> None:
        self.url = emulator.url
        self.token = emulator.token
        self.session = session

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(f"{self.url}{path}", params={"token": self.token, **params}, timeout=10)

    def post(self, path: str, **params: Any) -> requests.Response:
        return self.session.post(f"{self.url}{path}", params={"token": self.token, **params}, timeout=10)

    def copy(self, pipe: str = "sales", **params: Any) -> dict[str, Any]:
        response = self.post(f"/v0/pipes/{pipe}/copy", **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def populate(self, pipe: str = "mv_pipe", node: str = "mv_node", **params: Any) -> dict[str, Any]:
        response = self.post(f"/v0/pipes/{pipe}/nodes/{node}/population", **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.get(f"/v0/jobs/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait_status(self, job_id: str, *statuses: str, timeout: float = 5.0) -> dict[str, Any]:
        return poll_until(
            lambda: self.job(job_id), lambda job: job["status"] in statuses, timeout=timeout, what=f"{statuses}"
        )


class Acme:
    """Calls the emulated Acme Batch API with its API-key header."""

    def __init__(self, emulator: EmulatorServer, session: requests.Session) -> None:
        self.url = f"{emulator.url}/acme/v2"
        self.session = session
        self.session.headers["X-Api-Key"] = emulator.token

    def create(self, task: str = "nightly", **extra: Any) -> dict[str, Any]:
        response = self.session.post(f"{self.url}/runs", json={"task": task, **extra}, timeout=10)
        assert response.status_code == 201, response.text
        run: dict[str, Any] = response.json()["run"]
        return run

    def run(self, run_id: str) -> dict[str, Any]:
        response = self.session.get(f"{self.url}/runs/{run_id}", timeout=10)
        assert response.status_code == 200, response.text
        run: dict[str, Any] = response.json()["run"]
        return run

    def wait_state(self, run_id: str, *states: str, timeout: float = 5.0) -> dict[str, Any]:
        return poll_until(
            lambda: self.run(run_id), lambda run: run["state"] in states, timeout=timeout, what=f"{states}"
        )
