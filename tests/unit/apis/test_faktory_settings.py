"""A ``jobs`` connection with ``api: faktory`` names a TCP address, not an HTTP base URL."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_jobs_provider.apis.faktory.api import DEFAULT_UNKNOWN_GRACE, FaktoryApi, address
from airflow_jobs_provider.apis.registry import build_api
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.exceptions import JobsConfigError
from tests.support.api_settings import TOKEN


def connection(extra: dict[str, Any] | None = None, **fields: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "conn_id": "jobs_faktory",
        "host": "tcp://faktory.internal:7419",
        "password": TOKEN,
        "login": None,
        "schema": None,
        "port": None,
        "extra": json.dumps({"api": "faktory", **(extra or {})}),
    }
    return SimpleNamespace(**{**values, **fields})


@pytest.mark.parametrize(
    ("fields", "extra", "url"),
    [
        ({}, {}, "tcp://faktory.internal:7419"),
        ({"host": "faktory.internal"}, {}, "tcp://faktory.internal:7419"),
        ({"host": "faktory.internal", "port": 7500}, {}, "tcp://faktory.internal:7500"),
        ({"host": "tcp://faktory.internal:7600", "port": 7500}, {}, "tcp://faktory.internal:7600"),
        ({"host": "tcp+tls://faktory.internal"}, {}, "tcp+tls://faktory.internal:7419"),
        ({"host": "faktory.internal"}, {"tls": True}, "tcp+tls://faktory.internal:7419"),
        ({"host": "faktory.internal"}, {"tls": "false"}, "tcp://faktory.internal:7419"),
        ({"host": "tcp://[::1]:7419/"}, {}, "tcp://[::1]:7419"),
    ],
)
def test_faktory_addresses(fields, extra, url):
    settings = ApiSettings.from_connection(connection(extra, **fields))
    assert settings.base_url == url
    assert settings.token == TOKEN
    host, port, tls = address(url)
    assert (port, tls) == (int(url.rsplit(":", 1)[1]), url.startswith("tcp+tls"))
    assert host in url


@pytest.mark.parametrize(
    ("fields", "extra", "says"),
    [
        ({"host": ""}, {}, "has no host"),
        ({"host": "https://faktory.internal"}, {}, "is not a Faktory address"),
        ({"host": "tcp://:secret@faktory.internal"}, {}, "must not carry credentials"),
        ({"host": "tcp://faktory.internal/queues"}, {}, "is not a Faktory address"),
        ({"host": "tcp://faktory.internal:99999"}, {}, "bad port"),
        ({"host": "faktory.internal", "port": 70000}, {}, "bad port"),
        ({}, {"tls": "maybe"}, "'tls' must be true or false"),
    ],
)
def test_bad_faktory_connections_say_what_to_fix(fields, extra, says):
    with pytest.raises(JobsConfigError, match=says) as error:
        ApiSettings.from_connection(connection(extra, **fields))
    assert "secret" not in str(error.value)


def test_http_connections_keep_their_rules():
    tinybird = connection(host="tcp://api.tinybird.co", extra=None)
    tinybird.extra = json.dumps({"api": "tinybird"})
    with pytest.raises(JobsConfigError, match="is not an http"):
        ApiSettings.from_connection(tinybird)


def test_build_api_picks_faktory_and_reads_its_grace():
    default = build_api(ApiSettings.from_connection(connection()))
    assert isinstance(default, FaktoryApi)
    assert not default.can_list and "one jid at a time" in default.cannot_list
    assert default.unknown_grace == DEFAULT_UNKNOWN_GRACE
    assert build_api(ApiSettings.from_connection(connection({"unknown_grace_seconds": "5"}))).unknown_grace == 5
