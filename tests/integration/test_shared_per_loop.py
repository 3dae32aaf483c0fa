"""What the async hooks of one triggerer share on its event loop, over real HTTP against the emulator:
one aiohttp session per base URL (hooks/session_pool.py) and one Airbyte access token per set of
credentials (apis/airbyte_auth.token_cache). 10,000 triggers must not mean 10,000 of either.
"""

from __future__ import annotations

import asyncio
from typing import Any

from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.hooks.loop_shared import open_sessions
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
