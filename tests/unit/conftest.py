"""Shared pieces for the unit tests: settings, adapters and a scripted driver for exchanges.

Nothing here opens a socket or touches the Airflow DB: an exchange is driven with canned
Responses, and the Requests it yields are recorded for the test to inspect.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from airflow_jobs_provider.apis.exchange import Exchange, Request, Response, run_exchange
from airflow_jobs_provider.apis.rest import RestApi
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.tinybird import TinybirdApi
from airflow_jobs_provider.emulator.connections import ACME_EXTRAS as EMULATOR_ACME_EXTRAS

TOKEN = "unit-secret-5f3a"  # recognisable, so a test can prove it never leaks
TINYBIRD_URL = "https://api.tinybird.co"
ACME_URL = "https://acme.example"

# The complete extra from the docstring of apis/rest.py (the emulator's Acme Batch API).
ACME_EXTRAS: dict[str, Any] = dict(EMULATOR_ACME_EXTRAS)


def tinybird_settings(**changes: Any) -> ApiSettings:
    values: dict[str, Any] = {"conn_id": "tb", "api": "tinybird", "base_url": TINYBIRD_URL, "token": TOKEN}
    return ApiSettings(**{**values, **changes})


def acme_settings(extras: Mapping[str, Any] | None = None, **changes: Any) -> ApiSettings:
    values: dict[str, Any] = {
        "conn_id": "acme",
        "api": "rest",
        "base_url": ACME_URL,
        "token": TOKEN,
        "extras": copy.deepcopy(ACME_EXTRAS) if extras is None else extras,
    }
    return ApiSettings(**{**values, **changes})


class Script:
    """A fake transport: answers each Request with the next canned Response and records it."""

    def __init__(self, *responses: Response):
        self.responses = list(responses)
        self.requests: list[Request] = []

    def send(self, request: Request) -> Response:
        self.requests.append(request)
        assert self.responses, f"the exchange sent an unexpected extra request: {request}"
        return self.responses.pop(0)

    def run(self, exchange: Exchange[Any]) -> Any:
        result = run_exchange(exchange, self.send)
        assert not self.responses, f"the exchange stopped before using {self.responses}"
        return result


@pytest.fixture
def tinybird() -> TinybirdApi:
    return TinybirdApi(tinybird_settings())


@pytest.fixture
def acme() -> RestApi:
    return RestApi(acme_settings())


@pytest.fixture
def script() -> Callable[..., Script]:
    return Script
