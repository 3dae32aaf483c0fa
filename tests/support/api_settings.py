"""Connection settings for tests that drive an API without a server: Tinybird and Acme Batch (REST)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from airflow_jobs_provider.apis.settings import ApiSettings
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
