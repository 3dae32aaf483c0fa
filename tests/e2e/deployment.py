"""A live Airflow 3.3 on loopback: api-server, scheduler, dag-processor and triggerer as separate
processes, plus the jobs emulator as one more, all under a private temp AIRFLOW_HOME.

Separate processes (rather than ``airflow standalone``) let a test SIGKILL the triggerer alone
and start a new one. SQLite with the LocalExecutor is what ``airflow standalone`` runs too; it
holds up for a handful of concurrent runs. ``tests/e2e/prod/`` extends this class into the
production shape (PostgreSQL, Celery, two triggerers).

Every process runs from the venv the tests run in (``make test-e2e``: ``.venv-e2e``, where the
provider is installed from ``dist/*.whl``), with the deployment's home as its working directory
and no ``PYTHONPATH``: the provider the Airflow processes load comes from site-packages, never
from the source tree, so a module, entry point or ``py.typed`` missing from the wheel fails here.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from airflow_jobs_provider.emulator.connections import connection_env
from airflow_jobs_provider.emulator.control.client import EmulatorServer
from tests.e2e.airflow_api import AirflowApi
from tests.e2e.processes import Component, free_port, kill_leftovers, processes_of
from tests.support.polling import poll_until

ROOT = Path(__file__).resolve().parents[2]
E2E_DAGS = Path(__file__).resolve().parent / "dags"
TOKEN = "e2e-token-5f2a"
USER = "admin"
"""The SimpleAuthManager's default user (``[core] simple_auth_manager_users = admin:admin``)."""
START_TIMEOUT = 240.0
"""Bound for everything to come up and parse the DAGs; it takes about 20 s on 2 cores."""


VENV_BIN = Path(sys.executable).parent
"""``airflow``, ``jobs-emulator`` and ``python`` of the venv under test."""


class Deployment:
    """Build the home, start every process, and stop them all (``stop`` is safe to call twice)."""

    def __init__(self, api_port: int | None = None, e2e_dags: bool = True) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="jobs-e2e-"))
        self.logs = self.home / "logs"
        self.runtime = self.home / "runtime"  # where e2e DAGs leave pid files for the tests
        self.lineage = self.home / "openlineage"  # one file per OpenLineage event (test_lineage.py)
        for folder in (self.logs, self.runtime, self.lineage, self.home / "dags"):
            folder.mkdir()
        self.e2e_dags = e2e_dags
        self.api_port = api_port or free_port()
        # Signed in as a user does: the password goes in the file the SimpleAuthManager reads.
        self.password = secrets.token_urlsafe(12)
        (self.home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps({USER: self.password}))
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.api = AirflowApi(self.url, (USER, self.password))
        self.components: dict[str, Component] = {}
        self.emulator: EmulatorServer | None = None
        self.env: dict[str, str] = {}
        self._secret_key, self._jwt_secret = secrets.token_hex(16), secrets.token_hex(32)

    def start(self, dag_ids: tuple[str, ...]) -> None:
        """Start everything and return once the api-server answers and ``dag_ids`` are parsed."""
        self._link_dags()
        self.start_services()
        self.emulator = self._start_emulator()
        self.env = env = self._airflow_env(self.emulator)
        self._migrate([str(VENV_BIN / "airflow")], env)
        for name, argv in self.airflow_commands().items():
            self.components[name] = Component(name, argv, self.component_env(name, env), self.logs, cwd=self.home)
            self.start_component(name)
        poll_until(self._api_ready, timeout=START_TIMEOUT, interval=1, what="the api-server to answer")
        poll_until(
            lambda: self._check_alive() or all(self.api.dag_is_loaded(dag_id) for dag_id in dag_ids),
            timeout=START_TIMEOUT,
            interval=1,
            what=f"the DAGs {', '.join(dag_ids)} to be parsed",
        )

    def _migrate(self, airflow: list[str], env: dict[str, str]) -> None:
        log_path = self.logs / "db-migrate.log"
        with log_path.open("wb") as log:
            argv = [*airflow, "db", "migrate"]
            done = subprocess.run(
                argv, env=env, cwd=self.home, stdout=log, stderr=subprocess.STDOUT, timeout=START_TIMEOUT
            )
        if done.returncode:
            raise RuntimeError(f"airflow db migrate failed:\n{log_path.read_text(errors='replace')[-3000:]}")

    def start_services(self) -> None:
        """Start what Airflow needs before its own processes: nothing for SQLite."""

    def airflow_commands(self) -> dict[str, list[str]]:
        """The Airflow processes, by component name, in start order."""
        airflow = str(VENV_BIN / "airflow")
        return {
            "api-server": [airflow, "api-server", "--host", "127.0.0.1", "--port", str(self.api_port)],
            "scheduler": [airflow, "scheduler"],
            "dag-processor": [airflow, "dag-processor"],
            "triggerer": [airflow, "triggerer"],
        }

    def component_env(self, name: str, env: dict[str, str]) -> dict[str, str]:
        """The environment of one Airflow process (the deployment's, unless a subclass needs more)."""
        return env

    def start_component(self, name: str) -> None:
        self.components[name].start()

    def restart(self, name: str) -> None:
        """Start a fresh process for a component that was stopped or killed."""
        self.start_component(name)

    def settings(self) -> dict[str, dict[str, str]]:
        """Airflow's configuration, by section; passed as ``AIRFLOW__SECTION__KEY`` variables."""
        api_url = f"http://127.0.0.1:{self.api_port}"
        lineage_transport = {"type": "file", "log_file_path": str(self.lineage / "event"), "append": False}
        return {
            "core": {
                "dags_folder": str(self.home / "dags"),
                "load_examples": "False",
                "executor": "LocalExecutor",
                "parallelism": "8",
                "execution_api_server_url": f"{api_url}/execution/",
                "auth_manager": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
                "simple_auth_manager_users": f"{USER}:admin",
            },
            "database": {"sql_alchemy_conn": f"sqlite:///{self.home / 'airflow.db'}"},
            "api": {"base_url": api_url, "secret_key": self._secret_key, "workers": "1"},
            "api_auth": {"jwt_secret": self._jwt_secret},  # shared: the scheduler signs task tokens
            "logging": {
                "base_log_folder": str(self.logs),
                "logging_level": "INFO",
                # the scheduler's and triggerer's log servers; the defaults (8793/8794) may be taken
                "worker_log_server_port": str(free_port()),
                "trigger_log_server_port": str(free_port()),
            },
            "scheduler": {
                "scheduler_heartbeat_sec": "1",
                "job_heartbeat_sec": "1",
                "trigger_timeout_check_interval": "1",
                "task_instance_heartbeat_timeout": "60",
                "task_instance_heartbeat_timeout_detection_interval": "2",
            },
            "triggerer": {"job_heartbeat_sec": "1", "triggerer_health_check_threshold": "5"},
            # A task supervisor can notice its task's exit only this many seconds late. Kept short:
            # a deferring try's late "success" can fail the already resumed try (apache/airflow#72716).
            "workers": {"min_heartbeat_interval": "1"},
            "dag_processor": {"refresh_interval": "10", "min_file_process_interval": "60"},
            # The OpenLineage provider's own file transport, one file per event: task processes emit at
            # once, and appended events of several kilobytes can interleave. Only DAGs that call
            # enable_lineage() emit (e2e_lineage), so the other cases see no extra API reads.
            "openlineage": {
                "transport": json.dumps(lineage_transport),
                "namespace": "jobs-provider-e2e",
                "selective_enable": "True",
            },
        }

    def python(self, code: str) -> str:
        """Run ``code`` with the deployment's interpreter, environment and working directory; its stdout."""
        done = subprocess.run(
            [str(VENV_BIN / "python"), "-c", code], env=self.env, cwd=self.home, capture_output=True, text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def airflow_cli(self, *args: str) -> str:
        """Run an ``airflow`` command as an operator of this deployment would; its stdout."""
        done = subprocess.run(
            [str(VENV_BIN / "airflow"), *args], env=self.env, cwd=self.home, capture_output=True, text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def stop(self) -> list[str]:
        """Stop every component, then kill whatever is left; returns the leftovers it had to kill."""
        for component in reversed(list(self.components.values())):
            component.stop()
        return kill_leftovers(self.home)

    def live_processes(self) -> int:
        return len(processes_of(self.home))

    def diagnostics(self) -> str:
        """The tail of each component's log, for the report of a failed test."""
        parts = [f"AIRFLOW_HOME={self.home}"]
        for component in self.components.values():
            parts.append(f"---- {component.name} ({'running' if component.running else 'stopped'}) ----")
            parts.append(component.log_tail())
        return "\n".join(parts)

    def _link_dags(self) -> None:
        e2e = E2E_DAGS.glob("*.py") if self.e2e_dags else ()
        for dag_file in [*(ROOT / "example_dags").glob("example_*.py"), *e2e]:
            (self.home / "dags" / dag_file.name).symlink_to(dag_file)

    def _start_emulator(self) -> EmulatorServer:
        # The wheel's console script, as a user starts it.
        argv = [str(VENV_BIN / "jobs-emulator"), "--port", "0", "--token", TOKEN]
        env = {**_base_env(), "AIRFLOW_HOME": str(self.home)}  # the home marks it as ours for cleanup
        emulator = self.components["emulator"] = Component("emulator", argv, env, self.logs, cwd=self.home)
        emulator.start()

        def listening() -> dict[str, str] | None:
            if not emulator.running:
                raise RuntimeError(f"the emulator exited:\n{emulator.log_tail()}")
            text = emulator.log_tail()
            http = re.search(r"listening on (http://\S+)", text)
            faktory = re.search(r"Faktory protocol on (tcp://\S+)", text)
            return {"http": http.group(1), "faktory": faktory.group(1)} if http and faktory else None

        urls = poll_until(listening, timeout=30, interval=0.1, what="the emulator to listen")
        return EmulatorServer(urls["http"], TOKEN, faktory_url=urls["faktory"])

    def _airflow_env(self, emulator: EmulatorServer) -> dict[str, str]:
        settings = self.settings()
        env = {**_base_env(), "AIRFLOW_HOME": str(self.home), "JOBS_E2E_RUNTIME_DIR": str(self.runtime)}
        for section, options in settings.items():
            env.update({f"AIRFLOW__{section.upper()}__{key.upper()}": value for key, value in options.items()})
        env.update(connection_env(emulator.url, TOKEN, emulator.faktory_url))
        return env

    def _api_ready(self) -> bool:
        self._check_alive()
        try:
            self.api.sign_in()
        except OSError:
            return False
        return True

    def _check_alive(self) -> None:
        """Fail fast, with its log, when a component died during start-up."""
        for component in self.components.values():
            if not component.running:
                raise RuntimeError(f"{component.name} exited during start-up:\n{component.log_tail()}")


def _base_env() -> dict[str, str]:
    """The test process's environment minus Airflow settings and proxies, which would leak in."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "JOBS_"))}
    for key in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH"):  # nothing may add the source tree
        env.pop(key, None)
    for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(key, None)
    env["PYTHONUNBUFFERED"] = "1"
    return env
