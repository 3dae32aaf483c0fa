"""Events lost and duplicated when 1,000 jobs end within one poll interval, on every API with a job list.

One JobEventTrigger per API runs in Airflow 3.3's own TriggerRunner (tests/support/triggerer.py),
with its cursor in a (fake) asset state store, against the emulator over HTTP. Once it has its
baseline, the emulator's control endpoint makes ``--jobs`` jobs that all end within one interval
(``create_jobs``). The run counts the events fired against the jobs made, and the list requests
the watcher sent: in the polls that read the burst, and per poll once it has been read.

Run it: ``.venv/bin/python -m benchmarks.event_burst [--jobs 1000] [--interval 5] [--apis keboola airbyte]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
LIST_PATHS = {"tinybird": ("/v0/jobs", "/v0/sql"), "keboola": ("/search/jobs",), "airbyte": ("/v1/jobs",),
              "rest": ("/acme/v2/runs",)}  # fmt: skip
IDLE_POLLS = 3


def list_requests(emulator: Any, api: str) -> int:
    paths = LIST_PATHS[api]
    return sum(1 for entry in emulator.requests() if entry["method"] == "GET" and entry["path"].split("?")[0] in paths)


async def measure(emulator: Any, api: str, jobs: int, interval: float) -> dict[str, Any]:
    """One burst on one API: the figures of the closing note."""
    from airflow_jobs_provider.triggers import job_lists
    from airflow_jobs_provider.triggers.jobs import JobEventTrigger
    from tests.support.events import PROFILES
    from tests.support.triggerer import FakeSupervisor, running_triggerer, supervisor_comms

    profile = PROFILES[api]
    emulator.reset()
    trigger = JobEventTrigger(jobs_conn_id=profile.conn_id, filters=profile.filters, poll_interval=interval)
    supervisor = FakeSupervisor()
    with supervisor_comms(supervisor), mock.patch.object(JobEventTrigger, "commit_delay", 0.2):
        async with running_triggerer() as triggerer:
            await triggerer.add(1, trigger, {"burst": "burst"})
            deadline = time.monotonic() + 30
            while not supervisor.state and time.monotonic() < deadline:  # the baseline is stored
                await asyncio.sleep(0.05)
            before, started = list_requests(emulator, api), time.monotonic()
            made = await asyncio.to_thread(
                emulator.create_jobs, profile.emulator_api, jobs, profile.target, ends_in=0.2, spread=interval * 0.8
            )
            deadline = time.monotonic() + max(60.0, 20 * interval)
            while len(triggerer.events_so_far()) < jobs and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            burst_polls = max(1.0, (time.monotonic() - started) / interval)
            burst_requests = list_requests(emulator, api) - before
            await asyncio.sleep(interval * 2 + job_lists.LIST_OVERLAP)  # past the overlap: idle polls
            idle_before = list_requests(emulator, api)
            await asyncio.sleep(interval * IDLE_POLLS)
            idle_requests = list_requests(emulator, api) - idle_before
            events = triggerer.take_events()
            triggerer.raise_failures()
    fired = Counter(payload["job_id"] for _, payload in events)
    return {
        "api": api,
        "jobs": jobs,
        "events": sum(fired.values()),
        "lost": len(set(made) - set(fired)),
        "duplicated": sum(count - 1 for count in fired.values() if count > 1),
        "foreign": len(set(fired) - set(made)),
        "burst_requests": burst_requests,
        "burst_polls": round(burst_polls, 1),
        "idle_requests_per_poll": round(idle_requests / IDLE_POLLS, 1),
    }


def main(argv: list[str] | None = None, printer: Callable[[str], None] = print) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=5.0, help="poll interval, seconds")
    parser.add_argument("--apis", nargs="*", default=sorted(LIST_PATHS), choices=sorted(LIST_PATHS))
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # run as a script: the harness lives in tests/
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="jobs-burst-airflow-"))

    from airflow_jobs_provider.emulator import run_emulator
    from airflow_jobs_provider.emulator.connections import connection_env

    results = []
    with run_emulator() as emulator:
        os.environ.update(connection_env(emulator.url, emulator.token))
        for api in args.apis:
            results.append(asyncio.run(measure(emulator, api, args.jobs, args.interval)))
    printer(f"{args.jobs} jobs ending within one {args.interval:g}s poll interval, one watcher per API:")
    printer(f"  {'api':<9}{'events':>7}{'lost':>6}{'dup':>5}{'requests (burst)':>18}{'in polls':>10}{'idle/poll':>11}")
    for row in results:
        printer(
            f"  {row['api']:<9}{row['events']:>7}{row['lost']:>6}{row['duplicated']:>5}"
            f"{row['burst_requests']:>18}{row['burst_polls']:>10}{row['idle_requests_per_poll']:>11}"
        )
    return results


if __name__ == "__main__":
    main()
