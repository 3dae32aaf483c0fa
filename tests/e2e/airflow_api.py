"""The slice of Airflow's public REST API (``/api/v2``) the end-to-end tests drive a deployment with.

Everything a test does to Airflow goes through here, as a user or another system would: trigger
runs, read states, XComs and task logs, and mark a task failed.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import requests

from tests.support.polling import PollTimeout, poll_until

FINISHED_RUN_STATES = frozenset({"success", "failed"})
REQUEST_TIMEOUT = 30.0


class AirflowApi:
    """A client for one api-server; it signs in as one of the SimpleAuthManager's users."""

    def __init__(self, base_url: str, login: tuple[str, str]) -> None:
        self.base_url = base_url.rstrip("/")
        self._login = login
        self._http = requests.Session()
        self._http.trust_env = False  # loopback only: never through a proxy from the environment

    def sign_in(self) -> None:
        """``POST /auth/token`` with the user's name and password, as the login form does."""
        username, password = self._login
        body = {"username": username, "password": password}
        answer = self._http.post(f"{self.base_url}/auth/token", json=body, timeout=REQUEST_TIMEOUT)
        answer.raise_for_status()
        self._http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, ok: tuple[int, ...] = (200,)) -> Any:
        answer = self._http.request(method, f"{self.base_url}/api/v2{path}", json=body, timeout=REQUEST_TIMEOUT)
        if answer.status_code not in ok:
            raise AssertionError(f"{method} {path} -> {answer.status_code}: {answer.text[:500]}")
        return answer.json() if answer.content else None

    def dag_is_loaded(self, dag_id: str) -> bool:
        return self._http.get(f"{self.base_url}/api/v2/dags/{q(dag_id)}", timeout=REQUEST_TIMEOUT).status_code == 200

    def component_health(self, component: str) -> str:
        """``healthy`` or ``unhealthy``: whether the component's last heartbeat is recent enough."""
        return str(self.call("GET", "/monitor/health")[component]["status"])

    def import_errors(self) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = self.call("GET", "/importErrors")["import_errors"]
        return errors

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any] | None = None) -> None:
        """Unpause the DAG (new DAGs start paused) and create a manual run with a known id."""
        self.call("PATCH", f"/dags/{q(dag_id)}", {"is_paused": False})
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf or {}}
        self.call("POST", f"/dags/{q(dag_id)}/dagRuns", body)

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.call("GET", f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}")["state"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 120) -> str:
        """The run's final state; fails with every task's state when it does not end in time."""
        try:
            return poll_until(
                lambda: (state := self.run_state(dag_id, run_id)) in FINISHED_RUN_STATES and state,
                timeout=timeout,
                interval=0.5,
                what=f"run {dag_id}/{run_id} to finish",
            )
        except PollTimeout as error:
            raise AssertionError(f"{error}; tasks: {self.task_states(dag_id, run_id)}") from None

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        answer = self.call("GET", f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances")
        return {ti["task_id"]: ti for ti in answer["task_instances"]}

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        return {task_id: ti["state"] for task_id, ti in self.task_instances(dag_id, run_id).items()}

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        ti: dict[str, Any] = self.call("GET", f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/{q(task_id)}")
        return ti

    def set_task_state(self, dag_id: str, run_id: str, task_id: str, state: str) -> None:
        """What "Mark failed" / "Mark success" in the UI does."""
        path = f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/{q(task_id)}"
        self.call("PATCH", path, {"new_state": state})

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        path = f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/{q(task_id)}/xcomEntries/{q(key)}"
        return self.call("GET", path)["value"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The whole log of one try, one JSON line per record, so tests can search it as text."""
        path = f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/{q(task_id)}/logs/{try_number}?full_content=true"
        content = self.call("GET", path)["content"]
        return "\n".join(entry if isinstance(entry, str) else json.dumps(entry) for entry in content)


def q(segment: str) -> str:
    """Quote one path segment (run ids hold ':' and '+')."""
    return quote(segment, safe="")
