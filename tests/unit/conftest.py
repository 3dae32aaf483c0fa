"""Fixtures for the unit tests: adapters built from settings, and the scripted transport.

Nothing here opens a socket or touches the Airflow DB: an exchange is driven with canned
answers (tests/support/scripted.py), and the messages it yields are recorded for the test to inspect.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from airflow_jobs_provider.apis.rest import RestApi
from airflow_jobs_provider.apis.tinybird import TinybirdApi
from tests.support.api_settings import acme_settings, tinybird_settings
from tests.support.scripted import Script


@pytest.fixture
def tinybird() -> TinybirdApi:
    return TinybirdApi(tinybird_settings())


@pytest.fixture
def acme() -> RestApi:
    return RestApi(acme_settings())


@pytest.fixture
def script() -> Callable[..., Script]:
    return Script
