"""How the hook handles each injected fault, sync and async: reads are retried, a start is sent again
only when the API certainly never saw it, and the emulator's access log shows every attempt.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from airflow_jobs_provider.exceptions import JobStartUncertainError, JobsUnavailableError
from airflow_jobs_provider.hooks.jobs import JobsHook
from tests.conftest import TOKEN
from tests.support.jobs import start_tinybird_job
from tests.support.polling import poll_until

CONN = "jobs_faulty"
ATTEMPTS = 2
COPY = {"kind": "copy", "pipe": "faulty"}


@pytest.fixture
def faulty(live: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    extra = {"api": "tinybird", "timeout": 0.5, "retry_attempts": ATTEMPTS, "retry_initial_wait": 0.01}
    conn = {"conn_type": "jobs", "host": live.url, "password": TOKEN, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", json.dumps(conn))
    return live


def call(way: str, method: str, *args: Any, **kwargs: Any) -> Any:
    if way == "sync":
        return getattr(JobsHook(CONN), method)(*args, **kwargs)

    async def go() -> Any:
        async with JobsHook(CONN) as hook:
            return await getattr(hook, f"a{method}")(*args, **kwargs)

    return asyncio.run(go())


def attempts(live: Any, method: str, expected: int) -> list[dict[str, Any]]:
    """The logged requests of ``method``, once ``expected`` are logged: a stalled one is logged when it ends."""
    return poll_until(
        lambda: [entry for entry in live.requests() if entry["method"] == method],
        lambda entries: len(entries) >= expected,
        timeout=5,
        what=f"{expected} {method} request(s) in the access log",
    )


@pytest.mark.parametrize("way", ["sync", "async"])
@pytest.mark.parametrize("kind", ["5xx", "429", "reset", "stall", "garbage", "html", "truncated"])
def test_a_read_is_retried_then_reported_with_the_attempts_and_the_last_error(faulty, way, kind):
    job_id = start_tinybird_job(faulty, "succeeded")
    faulty.faults("tinybird", {kind: 1.0}, route="job", retry_after=0.05, stall_seconds=1.0)

    with pytest.raises(JobsUnavailableError) as caught:
        call(way, "get_job", job_id)

    assert not isinstance(caught.value, JobStartUncertainError)
    assert f"failed {ATTEMPTS} time(s)" in str(caught.value)
    assert [entry["fault"] for entry in attempts(faulty, "GET", ATTEMPTS)] == [kind] * ATTEMPTS


@pytest.mark.parametrize("way", ["sync", "async"])
@pytest.mark.parametrize("kind", ["reset", "stall", "garbage", "truncated"])
def test_a_start_whose_answer_was_lost_is_not_sent_again(faulty, way, kind):
    """The transport's guarantee, with the lookup that resolves uncertain starts turned off
    (tests/integration/test_uncertain_starts.py has the lookup)."""
    faulty.faults("tinybird", {kind: 1.0}, route="copy", seed=2, stall_seconds=1.0)

    with pytest.raises(JobStartUncertainError) as caught:
        call(way, "start_job", COPY, resolve_uncertain=False)

    assert len(attempts(faulty, "POST", 1)) == 1, "a second POST could start a second job"
    assert "not retried so that no second job starts" in str(caught.value)
    assert "List recent jobs" in str(caught.value)
    if kind != "reset":  # a reset may come before or after the job exists; the others come after
        (job,) = faulty.jobs("tinybird")
        assert [listed.job_id for listed in JobsHook(CONN).list_jobs(pipe_name="faulty")] == [job["id"]]


@pytest.mark.parametrize("way", ["sync", "async"])
def test_a_start_refused_with_429_is_sent_again_after_retry_after(faulty, way):
    faulty.faults("tinybird", {"429": 1.0}, route="copy", retry_after=0.3)

    with pytest.raises(JobsUnavailableError) as caught:
        call(way, "start_job", COPY)

    assert not isinstance(caught.value, JobStartUncertainError)
    first, second = attempts(faulty, "POST", 2)
    assert second["time"] - first["time"] >= 0.3
    assert faulty.jobs("tinybird") == [], "rate limited before anything ran"


@pytest.mark.parametrize("way", ["sync", "async"])
def test_slow_answers_are_only_slow(faulty, way):
    faulty.faults("tinybird", {"slow": 1.0}, slow_seconds=0.2)

    job = call(way, "start_job", COPY)

    assert [listed["id"] for listed in faulty.jobs("tinybird")] == [job.job_id]
