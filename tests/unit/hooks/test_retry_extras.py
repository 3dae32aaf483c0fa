"""The retry policy is tunable per connection (``retry_*`` extras), checked when the connection is read."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.exceptions import JobsConfigError
from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.hooks.retry import RetryPolicy


def settings(**extra: Any) -> ApiSettings:
    conn = SimpleNamespace(conn_id="c", host="https://h", password="p", extra=json.dumps({"api": "tinybird", **extra}))
    return ApiSettings.from_connection(conn)


def test_without_retry_extras_the_defaults_apply():
    assert settings().retry == {}
    assert RetryPolicy(**settings().retry) == RetryPolicy()


def test_each_extra_sets_its_policy_field():
    retry = settings(retry_attempts="3", retry_max_seconds=9, retry_initial_wait=0.1, retry_max_wait="2").retry
    assert RetryPolicy(**retry) == RetryPolicy(max_attempts=3, max_seconds=9.0, initial_wait=0.1, max_wait=2.0)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"retry_attempts": 0}, "'retry_attempts' must be a whole number from 1 to 100"),
        ({"retry_attempts": 101}, "'retry_attempts' must be a whole number"),
        ({"retry_attempts": True}, "'retry_attempts' must be a whole number"),
        ({"retry_attempts": "many"}, "'retry_attempts' must be a whole number"),
        ({"retry_max_seconds": 0}, "'retry_max_seconds' must be a positive number of seconds"),
        ({"retry_initial_wait": "soon"}, "'retry_initial_wait' must be a positive number of seconds"),
        ({"retry_max_wait": -1}, "'retry_max_wait' must be a positive number of seconds"),
        ({"retry_initial_wait": 5, "retry_max_wait": 1}, "'retry_max_wait' (1s) is below 'retry_initial_wait' (5s)"),
    ],
)
def test_bad_retry_extras_are_refused_with_the_fix(extra, says):
    with pytest.raises(JobsConfigError) as caught:
        settings(**extra)
    assert says in str(caught.value)


def test_the_hook_uses_the_connections_policy_unless_given_one(monkeypatch):
    extra = {"api": "tinybird", "retry_attempts": 7}
    value = {"conn_type": "jobs", "host": "https://h", "password": "p", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_RETRY_EXTRAS", json.dumps(value))
    assert JobsHook("retry_extras").retry_policy.max_attempts == 7
    given = RetryPolicy(max_attempts=2)
    assert JobsHook("retry_extras", retry_policy=given).retry_policy is given


def test_verify_false_warns_and_names_the_connection(caplog):
    with caplog.at_level(logging.WARNING, logger="airflow_jobs_provider.apis.settings"):
        assert settings(verify="false").verify is False
    assert "Connection 'c' has extra verify=false" in caplog.text
    with caplog.at_level(logging.WARNING, logger="airflow_jobs_provider.apis.settings"):
        caplog.clear()
        settings(verify="/etc/ssl/private-ca.pem")
    assert caplog.text == ""
