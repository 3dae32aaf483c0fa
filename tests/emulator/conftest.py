"""One emulator for the whole session, reset before each test so tests stay independent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from airflow_jobs_provider.emulator import EmulatorServer, run_emulator
from tests.support.emulator_http import Acme, Tinybird


@pytest.fixture(scope="session")
def _running_emulator() -> Iterator[EmulatorServer]:
    with run_emulator(token="test-token") as server:
        yield server


@pytest.fixture
def emulator(_running_emulator: EmulatorServer) -> EmulatorServer:
    _running_emulator.reset()
    return _running_emulator


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.trust_env = False  # never route loopback calls through a proxy from the environment
        yield http


@pytest.fixture
def tinybird(emulator: EmulatorServer, session: requests.Session) -> Tinybird:
    return Tinybird(emulator, session)


@pytest.fixture
def acme(emulator: EmulatorServer, session: requests.Session) -> Acme:
    return Acme(emulator, session)
