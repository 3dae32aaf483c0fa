"""What the async hooks of one triggerer share on its event loop, over real HTTP against the emulator:
one aiohttp session per base URL (hooks/session_pool.py) and one Airbyte access token per set of
credentials (apis/airbyte_auth.token_cache). 10,000 triggers must not mean 10,000 of either.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_jobs_provider.exceptions import JobsConfigError
from airflow_jobs_provider.hooks import jobs as jobs_hook
from airflow_jobs_provider.hooks import shared_setup
from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.hooks.loop_shared import open_sessions
from airflow_jobs_provider.hooks.retry import RetryPolicy
from airflow_jobs_provider.hooks.shared_setup import open_setups
from tests.support.jobs import start_tinybird_job

TOKEN_PATH = "/v1/applications/token"
SYNC = {"connectionId": "9ad4b1f3-93c5-4e6e-8f0c-6b1f4f0b1c2d", "jobType": "sync"}


def token_calls(live: Any) -> int:
    return sum(1 for entry in live.requests() if entry["path"] == TOKEN_PATH)


async def test_hooks_share_a_session_per_base_url_and_the_last_one_out_closes_it(live):
    job_id = start_tinybird_job(live, duration=30)
    async with JobsHook("jobs_default") as first, JobsHook("jobs_default") as second:
        assert first._session.session is second._session.session
        jobs = await asyncio.gather(*(hook.aget_job(job_id) for hook in (first, second) for _ in range(5)))
        assert {job.job_id for job in jobs} == {job_id}
        async with JobsHook("jobs_airbyte") as other:  # another base URL: a session of its own
            assert other._session.session is not first._session.session
            assert open_sessions() == 2
        assert open_sessions() == 1
        assert not first._session.session.closed, "the other hook still uses it"
    assert open_sessions() == 0


async def test_the_shared_session_carries_no_cookies_from_one_hook_to_another(live):
    async with JobsHook("jobs_default") as hook:
        assert len(hook._session.session.cookie_jar) == 0
        hook._session.session.cookie_jar.update_cookies({"session": "of-another-connection"})
        assert len(hook._session.session.cookie_jar) == 0


async def test_airbyte_triggers_of_one_connection_share_one_access_token(live):
    # A worker's sync hook (in a thread: no event loop) keeps a token of its own.
    job_id = await asyncio.to_thread(lambda: JobsHook("jobs_airbyte").start_job(SYNC).job_id)
    before = token_calls(live)

    async def watch_once() -> str:
        async with JobsHook("jobs_airbyte") as hook:
            return (await hook.aget_job(job_id)).job_id

    first = await watch_once()
    rest = await asyncio.gather(*(watch_once() for _ in range(20)))

    assert {first, *rest} == {job_id}
    assert token_calls(live) - before == 1, "one token exchange for 21 hooks on one loop"


async def test_hooks_of_one_connection_started_at_once_share_one_lookup_adapter_and_transport(live, monkeypatch):
    lookups: list[str] = []
    real_lookup = jobs_hook._aget_connection

    async def counted(conn_id: str) -> Any:
        lookups.append(conn_id)
        return await real_lookup(conn_id)

    monkeypatch.setattr(jobs_hook, "_aget_connection", counted)
    job_id = start_tinybird_job(live, duration=30)
    hooks = [JobsHook("jobs_default") for _ in range(50)]
    await asyncio.gather(*(hook.__aenter__() for hook in hooks))  # a restart: all at once
    try:
        assert lookups == ["jobs_default"], "one connection lookup for 50 hooks"
        assert len({id(hook.api) for hook in hooks}) == 1 and len({id(hook._session) for hook in hooks}) == 1
        jobs = await asyncio.gather(*(hook.aget_job(job_id) for hook in hooks))
        assert {job.job_id for job in jobs} == {job_id}
        async with JobsHook("jobs_default", status_overrides={"working": "RUNNING"}) as overridden:
            assert overridden.api is not hooks[0].api, "other overrides: a set-up of its own"
            assert open_setups() == 2
    finally:
        for hook in hooks[:-1]:
            await hook.__aexit__(None, None, None)
        assert not hooks[-1]._session.session.closed, "the last hook still uses it"
        await hooks[-1].__aexit__(None, None, None)
    assert open_setups() == 0 and open_sessions() == 0


async def test_an_old_set_up_is_not_handed_to_new_hooks(live, monkeypatch):
    async with JobsHook("jobs_default") as first:
        monkeypatch.setattr(shared_setup, "REUSE_SECONDS", 0.0)  # from now on every set-up counts as stale
        async with JobsHook("jobs_default") as second:
            assert second.api is not first.api, "the connection is read again"
            assert open_setups() == 1, "the old one is no longer handed out, only kept for its user"
        assert not first._session.session.closed
    assert open_sessions() == 0


async def test_a_set_up_that_fails_is_not_shared_each_hook_reports_its_own_error(live, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_JOBS_BROKEN", '{"conn_type": "jobs", "host": "http://127.0.0.1:9", "extra": {}}')
    hooks = [JobsHook("jobs_broken") for _ in range(5)]
    results = await asyncio.gather(*(hook.__aenter__() for hook in hooks), return_exceptions=True)
    assert all(isinstance(result, JobsConfigError) for result in results)
    assert len({id(result) for result in results}) == 5, "no error object shared between triggers"
    assert "does not say which API it speaks" in str(results[0])
    assert open_setups() == 0


async def test_a_hook_with_its_own_retry_policy_keeps_its_own_transport(live):
    async with JobsHook("jobs_default") as shared, JobsHook("jobs_default", retry_policy=RetryPolicy(1)) as own:
        assert own._session is not shared._session
        assert own.retry_policy.max_attempts == 1
        assert open_setups() == 1
    assert open_setups() == 0 and open_sessions() == 0


@pytest.mark.parametrize("conn_id", ["jobs_airbyte", "jobs_acme", "jobs_keboola"])
async def test_every_http_api_shares_its_set_up(live, conn_id):
    async with JobsHook(conn_id) as first, JobsHook(conn_id) as second:
        assert first.api is second.api and first._session is second._session
    assert open_setups() == 0
