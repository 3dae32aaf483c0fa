"""HTTPS: certificates are checked by default, a CA bundle makes a private CA work, and ``verify: false``
works but says loudly that it is unsafe. An untrusted certificate is a setting to fix, never retried.

The emulator sits behind a TLS front with a throw-away self-signed certificate (tests/support/tls.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.exceptions import JobsConfigError
from airflow_jobs_provider.hooks.jobs import JobsHook
from tests.conftest import TOKEN
from tests.support.jobs import start_tinybird_job
from tests.support.tls import running_tls_front

CONN = "jobs_https"


@pytest.fixture
def https(live: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Path]]:
    """Sets connection ``jobs_https`` (Tinybird, through the TLS front) with the given extras; yields the setter."""
    with running_tls_front(urlsplit(live.url).port or 0, tmp_path) as (front, cert):

        def connect(**extra: Any) -> Path:
            value = {"conn_type": "jobs", "host": f"https://127.0.0.1:{front.port}", "password": TOKEN,
                     "extra": {"api": "tinybird", "retry_attempts": 2, "retry_initial_wait": 0.01, **extra}}
            monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", json.dumps(value))
            return cert

        yield connect


async def aget(job_id: str) -> Any:
    async with JobsHook(CONN) as hook:
        return await hook.aget_job(job_id)


def test_verification_is_on_by_default() -> None:
    conn = type("Conn", (), {"conn_id": "c", "host": "https://h", "extra": '{"api": "tinybird"}'})
    settings = ApiSettings.from_connection(conn)
    assert settings.verify is True


@pytest.mark.parametrize("way", ["sync", "async"])
def test_an_untrusted_certificate_fails_at_once_and_says_how_to_trust_it(https, live, way) -> None:
    https()

    with pytest.raises(JobsConfigError) as caught:
        JobsHook(CONN).get_job("x") if way == "sync" else asyncio.run(aget("x"))

    text = str(caught.value)
    assert "is not trusted" in text
    assert "set extra 'verify' of connection 'jobs_https' to the path of the CA bundle" in text
    assert live.requests() == [], "nothing was sent over the untrusted connection"


@pytest.mark.parametrize("way", ["sync", "async"])
def test_a_ca_bundle_makes_the_private_certificate_trusted(https, live, way) -> None:
    cert = https()
    https(verify=str(cert))
    job_id = start_tinybird_job(live, "succeeded")

    job = JobsHook(CONN).get_job(job_id) if way == "sync" else asyncio.run(aget(job_id))

    assert job.job_id == job_id


def test_verify_false_works_and_warns(https, live, caplog) -> None:
    https(verify=False)
    job_id = start_tinybird_job(live, "succeeded")

    with caplog.at_level(logging.WARNING, logger="airflow_jobs_provider.apis.settings"):
        job = JobsHook(CONN).get_job(job_id)

    assert job.job_id == job_id
    (warning,) = [record for record in caplog.records if record.name == "airflow_jobs_provider.apis.settings"]
    assert "verify=false: TLS certificates are NOT checked" in warning.getMessage()
    assert "'jobs_https'" in warning.getMessage()
