"""Soak of the shared polls (triggers/batch_poller.py): 1,000 watches through the same faults.

250 watches on each of Tinybird (jobs_log feed and batches), Keboola (id search), Airbyte (job list
by updatedAt) and REST on Acme (``batch_*`` extras), all JobStatusTriggers on one event loop, while
each API answers 20% 5xx, 5% 429, 5% resets, 2% stalls and 1% garbage. The jobs end before their
first look, between polls, or keep running; every outcome must be the emulator's, no running job may
end early. Feed reads are capped at two pages and reach back 5 s (the client's 2 s timeout bounds how
late an answer used can be), so while many jobs have changed recently the feeds are incomplete and
their rounds fall back to per-job reads, and later they are complete: both paths run through the
faults. The report (requests per job per interval by API after the first looks, feed fallbacks)
is printed and written to ``soak_batched.json`` in the test's tmp dir.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_jobs_provider.emulator import EmulatorServer
from airflow_jobs_provider.emulator.connections import ACME_BATCH_EXTRAS
from airflow_jobs_provider.triggers import batch_poller
from airflow_jobs_provider.triggers.batch_poller import running_pollers
from airflow_jobs_provider.triggers.jobs import JobStatusTrigger
from airflow_jobs_provider.triggers.poll_costs import poll_costs
from tests.soak.emulator_process import emulator_process
from tests.soak.plan import HTTP_RATES, POLICY_EXTRAS, RETRY_AFTER, SEED_BATCHED, STALL_SECONDS
from tests.support.airflow_versions import once_on_latest_airflow
from tests.support.polling import apoll_until

pytestmark = [pytest.mark.soak, once_on_latest_airflow]

TOKEN = "soak-token-b47c"
PER_API = 250
POLL = 0.3
OVERLAP = 5.0
SPREAD = 20.0
OUTCOMES = {"succeeded": "success", "failed": "failed", "cancelled": "cancelled"}
# emulator API, adapter, connection extra, bulk spec
APIS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "tinybird": ("tinybird", {"api": "tinybird"}, {"kind": "copy", "pipe": "soak"}),
    "keboola": ("keboola", {"api": "keboola"}, {"component": "keboola.ex-soak", "config": "1"}),
    "airbyte": ("airbyte", {"api": "airbyte"}, {"connectionId": "1f0e2a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b"}),
    "acme": ("rest", ACME_BATCH_EXTRAS, {"task": "soak"}),
}


def conn_id(api: str) -> str:
    return f"soak_batched_{api}"


@pytest.fixture
def batched_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    with emulator_process(TOKEN) as emulator:
        for api, (_, extra, _) in APIS.items():
            host = f"{emulator.url}/v1" if api == "airbyte" else emulator.url
            conn: dict[str, Any] = {"conn_type": "jobs", "host": host, "password": TOKEN}
            if api == "airbyte":
                from airflow_jobs_provider.emulator.airbyte.auth import CLIENT_ID

                conn["login"] = CLIENT_ID
                extra = {**extra, "auth": "client_credentials"}
            conn["extra"] = {**extra, **POLICY_EXTRAS, "batch_overlap_seconds": OVERLAP}
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id(api).upper()}", json.dumps(conn))
        yield emulator


def create(emulator: EmulatorServer, api: str, spec: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """PER_API jobs: a tenth ended already, most end between polls over SPREAD s, a tenth keep running."""
    expected: dict[str, str] = {}
    tenth = PER_API // 10
    for outcome in OUTCOMES:
        for job_id in emulator.create_jobs(api, tenth // 3 + 1, spec, ends_in=-3, outcome=outcome):
            expected[job_id] = outcome
        for job_id in emulator.create_jobs(
            api, (PER_API - 2 * tenth) // 3, spec, ends_in=2, spread=SPREAD, outcome=outcome
        ):
            expected[job_id] = outcome
    running = emulator.create_jobs(api, PER_API - len(expected), spec, ends_in=600)
    return expected, running


class FeedFallbacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.by_api: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "feed of changed jobs" in message:
            self.by_api[f"{message.split(chr(39), 1)[0]} {'failed' if 'failed' in message else 'incomplete'}"] += 1


async def event_of(api: str, job_id: str) -> dict[str, Any]:
    trigger = JobStatusTrigger(job_id=job_id, jobs_conn_id=conn_id(api), poll_interval=POLL)
    events = [event.payload async for event in trigger.run()]
    assert len(events) == 1
    return events[0]


async def test_a_thousand_batched_watches_through_faults(
    batched_emulator: EmulatorServer, tmp_path: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
):
    emulator = batched_emulator
    monkeypatch.setattr(batch_poller, "FEED_MAX_PAGES", 2)
    jobs = {api: create(emulator, api, spec) for api, (_, _, spec) in APIS.items()}
    for api in APIS:
        emulator.faults(api, HTTP_RATES, seed=SEED_BATCHED, retry_after=RETRY_AFTER, stall_seconds=STALL_SECONDS)
    fallbacks = FeedFallbacks()
    logging.getLogger("airflow_jobs_provider.triggers.batch_poller").addHandler(fallbacks)
    poll_costs(reset=True)
    try:
        tasks = {
            (api, job_id): asyncio.ensure_future(event_of(api, job_id))
            for api, (expected, running) in jobs.items()
            for job_id in [*expected, *running]
        }
        ending = [tasks[(api, job_id)] for api, (expected, _) in jobs.items() for job_id in expected]
        await apoll_until(
            lambda: len(running_pollers()) == len(APIS) and all(p.rounds_done >= 2 for p in running_pollers()),
            timeout=120,
            what="every poller past its first looks",
        )
        poll_costs(reset=True)
        await asyncio.wait_for(asyncio.gather(*ending), 300)
        rounds_then = {poller.key[1]: poller.rounds_done for poller in running_pollers()}
        await apoll_until(
            lambda: all(poller.rounds_done >= rounds_then[poller.key[1]] + 3 for poller in running_pollers()),
            timeout=60,
            what="three more rounds for the running jobs",
        )
        total_rounds = {poller.key[1]: poller.rounds_done for poller in running_pollers()}
        early = [key for api, (_, running) in jobs.items() for key in ((api, job_id) for job_id in running)
                 if tasks[key].done()]  # fmt: skip
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    finally:
        logging.getLogger("airflow_jobs_provider.triggers.batch_poller").removeHandler(fallbacks)
    costs = poll_costs()
    injected = emulator.fault_stats()["injected"]

    wrong = []
    for api, (expected, _) in jobs.items():
        for job_id, outcome in expected.items():
            event = tasks[(api, job_id)].result()
            if event["status"] != OUTCOMES[outcome]:
                wrong.append((api, job_id, outcome, event["status"], event.get("message")))
    report = {
        "watches": sum(len(expected) + len(running) for expected, running in jobs.values()),
        "ended": sum(len(expected) for expected, _ in jobs.values()),
        "wrong_outcomes": len(wrong),
        "ended_early": len(early),
        "faults_injected": {api: dict(kinds) for api, kinds in injected.items()},
        "feed_fallback_rounds": dict(fallbacks.by_api),
        "requests_per_job_per_interval": {
            APIS[api][0]: round(costs[APIS[api][0]].per_job_per_interval, 4) for api in APIS
        },
        "rounds_after_first_looks": {APIS[api][0]: costs[APIS[api][0]].rounds for api in APIS},
        "rounds": total_rounds,
    }
    (tmp_path / "soak_batched.json").write_text(json.dumps(report, indent=2))
    with capsys.disabled():
        print(f"\nbatched soak: {json.dumps(report, indent=2)}\n  written to {tmp_path / 'soak_batched.json'}")

    assert not wrong, f"{len(wrong)} wrong outcome(s): {wrong[:5]}"
    assert not early, f"running jobs reported ended: {early[:5]}"
    for api in APIS:
        assert injected.get(api), f"no fault was injected on {api}"
    for adapter in ("airbyte", "rest"):  # their feeds ran both ways: incomplete (fallback) and complete
        assert fallbacks.by_api[f"{adapter} incomplete"] > 0, fallbacks.by_api
        assert total_rounds[adapter] > fallbacks.by_api[f"{adapter} incomplete"], (total_rounds, fallbacks.by_api)
