"""Test session set-up: a private AIRFLOW_HOME with a migrated SQLite DB, and the emulator.

The environment is set at import time, before anything imports Airflow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="jobs-provider-airflow-"))
DAGS_FOLDER = AIRFLOW_HOME / "dags"
DAGS_FOLDER.mkdir()
for dag_file in [*(ROOT / "example_dags").glob("example_*.py"), *(ROOT / "tests" / "dags").glob("*.py")]:
    (DAGS_FOLDER / dag_file.name).symlink_to(dag_file)
os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }
)

pytest_plugins = ["tests.support.blocking_io", "tests.support.lineage_run"]  # no_blocking_io, lineage_runs

TOKEN = "test-token-8c1d"  # a recognisable secret: tests check it never leaks

def connection_env(url: str, token: str = TOKEN, faktory_url: str | None = None) -> dict[str, str]:
    from airflow_jobs_provider.emulator.connections import connection_env as emulator_connections

    return emulator_connections(url, token, faktory_url)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrate the metadata DB once per session (a few seconds on SQLite)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return AIRFLOW_HOME


@pytest.fixture(scope="session")
def emulator() -> Iterator[object]:
    from airflow_jobs_provider.emulator import run_emulator

    with run_emulator(token=TOKEN) as server:
        yield server


@pytest.fixture
def live(emulator: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The emulator, reset, with the example connections pointing at it."""
    emulator.reset()  # type: ignore[attr-defined]
    for key, value in connection_env(emulator.url, faktory_url=emulator.faktory_url).items():  # type: ignore[attr-defined]
        monkeypatch.setenv(key, value)
    yield emulator
