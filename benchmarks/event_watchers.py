"""List requests per poll interval with many JobEventTrigger watchers on one job list.

The watchers run in Airflow 3.3's own TriggerRunner (tests/support/triggerer.py), against
the emulator over HTTP. Three set-ups of the same 50 watchers, one per Tinybird pipe:

- ``shared``: ``filters={"kind": "copy"}`` with ``match={"pipe_name": ...}``. All watchers have
  one ``shared_stream_key``, so the triggerer runs one list poll for all of them.
- ``unshared``: the same watchers with shared streams off (``shared_stream_key`` is None), as on
  Airflow before 3.3. Each watcher polls on its own.
- ``filter_per_watcher``: ``filters={"kind": "copy", "pipe_name": ...}``. Every list request is
  different, so nothing can be shared, even on 3.3.

Run it: ``.venv/bin/python benchmarks/event_watchers.py [--watchers 50] [--interval 1] [--intervals 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
SETUPS = ("shared", "unshared", "filter_per_watcher")


def measure(emulator: Any, watchers: int = 50, interval: float = 1.0, intervals: int = 5) -> dict[str, float]:
    """Requests per interval to the emulator's job list, per set-up, with ``watchers`` watchers running."""
    return {
        setup: asyncio.run(_requests_per_interval(emulator, setup, watchers, interval, intervals)) for setup in SETUPS
    }


async def _requests_per_interval(emulator: Any, setup: str, watchers: int, interval: float, intervals: int) -> float:
    from airflow_jobs_provider.triggers.jobs import JobEventTrigger
    from tests.support.triggerer import FakeSupervisor, running_triggerer, supervisor_comms

    def watcher(number: int) -> JobEventTrigger:
        pipe = f"pipe_{number:02d}"
        if setup == "filter_per_watcher":
            return JobEventTrigger(filters={"kind": "copy", "pipe_name": pipe}, poll_interval=interval)
        return JobEventTrigger(filters={"kind": "copy"}, match={"pipe_name": pipe}, poll_interval=interval)

    sharing = (
        mock.patch.object(JobEventTrigger, "shared_stream_key", lambda self: None)
        if setup == "unshared"
        else contextlib.nullcontext()
    )
    with supervisor_comms(FakeSupervisor()), sharing:
        async with running_triggerer() as triggerer:
            for number in range(watchers):
                await triggerer.add(number + 1, watcher(number), {f"pipe_{number:02d}_copied": f"pipe_{number:02d}"})
            await asyncio.sleep(interval * 1.5)  # every watcher (or group) has started polling
            triggerer.raise_failures()
            first, started = list_requests(emulator), time.monotonic()
            await asyncio.sleep(interval * intervals)
            count, elapsed = list_requests(emulator) - first, time.monotonic() - started
            triggerer.raise_failures()
    return round(count / (elapsed / interval), 1)


def list_requests(emulator: Any) -> int:
    """Tinybird job-list requests the emulator has answered so far."""
    return sum(1 for entry in emulator.requests() if entry["method"] == "GET" and entry["path"].startswith("/v0/jobs?"))


def main(argv: list[str] | None = None, printer: Callable[[str], None] = print) -> dict[str, float]:
    """Start an emulator, measure every set-up, print one line each, and return the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", type=int, default=50)
    parser.add_argument("--interval", type=float, default=1.0, help="poll interval, seconds")
    parser.add_argument("--intervals", type=int, default=5, help="intervals to count requests over")
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # run as a script: the harness lives in tests/
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="jobs-bench-airflow-"))

    from airflow_jobs_provider.emulator import run_emulator
    from airflow_jobs_provider.emulator.connections import connection_env

    with run_emulator() as emulator:
        os.environ.update(connection_env(emulator.url, emulator.token))
        numbers = measure(emulator, args.watchers, args.interval, args.intervals)
    printer(f"list requests per {args.interval:g}s poll interval, {args.watchers} watchers on one Tinybird job list:")
    for setup, per_interval in numbers.items():
        printer(f"  {setup:<20} {per_interval:6.1f}")
    return numbers


if __name__ == "__main__":
    main()
