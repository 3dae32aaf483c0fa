"""JobWatch's first poll and first wait: how a restart's burst of triggers is smoothed (triggers/batch_poller.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_jobs_provider.triggers import batch_poller
from airflow_jobs_provider.triggers.batch_poller import FIRST_POLLS, JobWatch, phase_wait


class GatedHook:
    """A hook whose GETs wait for a gate, counting how many are in flight at once."""

    def __init__(self, conn_id: str = "jobs_default") -> None:
        self.jobs_conn_id = conn_id
        self.gate = asyncio.Event()
        self.in_flight = 0
        self.most_in_flight = 0
        self.calls: list[str] = []

    async def aget_job(self, job_id: str) -> Any:
        self.calls.append(job_id)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.gate.wait()
        finally:
            self.in_flight -= 1
        return job_id


def test_the_phase_wait_is_within_one_cycle_and_fixed_by_the_job_id() -> None:
    waits = [phase_wait(str(job_id), 10.0, 1234.5) for job_id in range(1000)]
    assert all(0.0 <= wait < 10.0 for wait in waits)
    assert phase_wait("42", 10.0, 1234.5) == phase_wait("42", 10.0, 1234.5)
    assert len({int(wait) for wait in waits}) == 10, "1,000 jobs cover every second of the cycle"
    assert phase_wait("42", 0.0, 5.0) == 0.0


async def test_first_polls_of_one_connection_go_out_a_few_dozen_at_a_time() -> None:
    hook = GatedHook()
    watches = [JobWatch(hook, str(job_id)) for job_id in range(FIRST_POLLS * 3)]
    polls = [asyncio.ensure_future(watch.poll()) for watch in watches]
    for _ in range(5):
        await asyncio.sleep(0)
    assert hook.in_flight == FIRST_POLLS
    hook.gate.set()
    assert await asyncio.gather(*polls) == [watch.job_id for watch in watches]
    assert hook.most_in_flight == FIRST_POLLS
    assert sorted(hook.calls, key=int) == [watch.job_id for watch in watches]


async def test_later_polls_and_other_connections_take_no_slot() -> None:
    hook, other = GatedHook(), GatedHook("jobs_other")
    hook.gate.set()
    watches = [JobWatch(hook, str(job_id)) for job_id in range(FIRST_POLLS)]
    await asyncio.gather(*(watch.poll() for watch in watches))
    hook.gate.clear()
    again = [asyncio.ensure_future(watch.poll()) for watch in watches]  # second polls: no slot needed
    others = [asyncio.ensure_future(JobWatch(other, str(job_id)).poll()) for job_id in range(FIRST_POLLS)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert hook.in_flight == FIRST_POLLS and other.in_flight == FIRST_POLLS
    hook.gate.set()
    other.gate.set()
    await asyncio.gather(*again, *others)


async def test_a_slow_first_poll_gives_its_slot_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_poller, "FIRST_POLL_HOLD", 0.01)
    hook = GatedHook()
    stuck = [asyncio.ensure_future(JobWatch(hook, str(job_id)).poll()) for job_id in range(FIRST_POLLS)]
    late = asyncio.ensure_future(JobWatch(hook, "late").poll())
    while "late" not in hook.calls:  # counted by structure: the late one starts once a slot's hold ran out
        await asyncio.sleep(0.005)
    assert not late.done()
    hook.gate.set()
    await asyncio.gather(*stuck, late)


async def test_the_first_wait_is_never_longer_than_asked_and_later_waits_are_plain_sleeps() -> None:
    watch = JobWatch(GatedHook(), "7")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await watch.wait(0.05)
    assert loop.time() - started < 0.05 + 0.04
    assert watch.wait is asyncio.sleep
