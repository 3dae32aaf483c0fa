"""``tcp+tls://`` connections, sync and async, through a TLS front for the emulator's Faktory port.

The front (tests/support/tls.py) terminates TLS with a throw-away self-signed certificate and
forwards the bytes, the way a TLS proxy in front of a real Faktory would; the client side is the
provider's own code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from airflow_jobs_provider.exceptions import JobsConfigError
from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.hooks.retry import RetryPolicy
from tests.conftest import TOKEN
from tests.support.tls import running_tls_front


@pytest.fixture
def tls_faktory(live: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Sets connection ``jobs_faktory_tls`` (extra ``verify`` given per test) to the TLS front; yields a setter."""
    with running_tls_front(urlsplit(live.faktory_url).port or 0, tmp_path) as (front, cert):

        def use(**extra: Any) -> str:
            connection = {
                "conn_type": "jobs",
                "host": f"127.0.0.1:{front.port}",
                "password": TOKEN,
                "extra": {"api": "faktory", "tls": True, **extra},
            }
            monkeypatch.setenv("AIRFLOW_CONN_JOBS_FAKTORY_TLS", json.dumps(connection))
            return str(cert)

        yield use


def hook() -> JobsHook:
    return JobsHook("jobs_faktory_tls", retry_policy=RetryPolicy(max_attempts=1))


def test_sync_hook_over_tls_trusting_the_servers_ca_bundle(live, tls_faktory):
    tls_faktory(verify=tls_faktory())
    jobs = hook()
    assert jobs.settings.base_url.startswith("tcp+tls://")
    jid = jobs.start_job({"jobtype": "Report"}).job_id
    assert jobs.get_job(jid).raw_status == "enqueued"
    assert [job["id"] for job in live.jobs("faktory")] == [jid]


async def test_async_hook_over_tls(live, tls_faktory):
    tls_faktory(verify=tls_faktory())
    live.script("faktory", outcome="succeeded", queue_seconds=5)
    jid = hook().start_job({"jobtype": "Report"}).job_id
    async with JobsHook("jobs_faktory_tls") as jobs:
        assert (await jobs.aget_job(jid)).raw_status == "enqueued"


def test_an_untrusted_certificate_is_a_config_error_that_names_verify(tls_faktory):
    tls_faktory()  # verify defaults to true: the system CAs do not know our certificate
    with pytest.raises(JobsConfigError, match=r"is not trusted .* set extra 'verify'"):
        hook().get_job("some-jid-1")


async def test_an_untrusted_certificate_fails_the_trigger_path_the_same_way(tls_faktory):
    tls_faktory()
    with pytest.raises(JobsConfigError, match="is not trusted"):
        async with JobsHook("jobs_faktory_tls") as jobs:
            await jobs.aget_job("some-jid-1")


def test_verify_false_skips_the_check(tls_faktory):
    tls_faktory(verify=False)
    assert hook().get_job("some-jid-1").raw_status == "unknown"
