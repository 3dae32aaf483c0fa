"""The emulator side of the triggerer-scale benchmark: a ``jobs-emulator`` process, its jobs, its log.

The emulator runs in a process of its own (``python -m airflow_jobs_provider.emulator``) so that
its CPU never counts as the watcher's. Jobs are created through each API's own start call, with
their durations scripted through the control endpoint, and their end times are read back from
``/_emulator/jobs``: the benchmark measures detection latency against the emulator's own clock.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from airflow_jobs_provider.emulator.control.client import EmulatorServer

TOKEN = "bench-token-5d1e"
DURATION_STEPS = 50
"""Jobs end in this many evenly spaced groups: scripts are queued per group, not per job."""
CREATE_CONCURRENCY = 16
JOB_READ_PREFIX = {"airbyte": "/v1/jobs/", "keboola": "/jobs/"}
SEARCH_PATH = "/search/jobs?"


def raise_fd_limit() -> None:
    """10,000 watches may hold thousands of sockets: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@contextmanager
def emulator_process() -> Iterator[EmulatorServer]:
    """A ``jobs-emulator`` on a free loopback port, in its own process, for the ``with`` block."""
    launch = (
        "import sys; from benchmarks.emulator_jobs import raise_fd_limit; raise_fd_limit(); "
        "from airflow_jobs_provider.emulator.__main__ import main; sys.exit(main(sys.argv[1:]))"
    )
    command = [sys.executable, "-c", launch, "--port", "0", "--faktory-port", "0", "--token", TOKEN]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if "listening on" not in first:
            raise RuntimeError(f"the emulator did not start: {first!r}")
        yield EmulatorServer(first.split()[-1], TOKEN, timeout=60)
    finally:
        process.terminate()
        process.wait(10)


def create_jobs(emulator: EmulatorServer, api: str, count: int, first_end: float, spread: float) -> None:
    """``count`` jobs on ``api`` that end between ``first_end`` and ``first_end + spread`` seconds from now.

    The scripted duration counts from each job's creation, so creating takes a little from the
    first group's lead; ``end_times`` reads the real ends back.
    """
    groups = min(DURATION_STEPS, count)
    for group in range(groups):
        times = count // groups + (1 if group < count % groups else 0)
        duration = first_end + spread * group / groups
        emulator.script(api, outcome="succeeded", queue_seconds=0, duration=round(duration, 3), times=times)
    asyncio.run(_start_jobs(emulator, api, count))


async def _start_jobs(emulator: EmulatorServer, api: str, count: int) -> None:
    import aiohttp

    headers = {"Authorization": f"Bearer {emulator.token}", "X-StorageApi-Token": emulator.token}
    limit = asyncio.Semaphore(CREATE_CONCURRENCY)
    async with aiohttp.ClientSession(headers=headers) as session:

        async def start(number: int) -> None:
            if api == "airbyte":  # one connection per job: Airbyte runs one job per connection at a time
                url = f"{emulator.url}/v1/jobs"
                body = {"connectionId": str(uuid.UUID(int=number + 1)), "jobType": "sync"}
            else:
                url, body = f"{emulator.url}/jobs", {"component": "keboola.ex-db-snowflake", "config": "554424643"}
            async with limit, session.post(url, json=body) as answer:
                if answer.status >= 300:
                    raise RuntimeError(f"starting a {api} job failed: HTTP {answer.status} {await answer.text()}")

        await asyncio.gather(*(start(number) for number in range(count)))


def end_times(emulator: EmulatorServer, api: str) -> dict[str, float]:
    """Job id → epoch second at which the emulator turns the job final (creation + queue + duration)."""
    ends = {}
    for job in emulator.jobs(api):
        created = datetime.fromisoformat(job["created_at"].replace("Z", "+00:00")).timestamp()
        ends[job["id"]] = created + job["script"]["queue_seconds"] + job["script"]["duration"]
    return ends


def job_reads(entry: dict[str, Any], api: str) -> int:
    """How many job states one logged request read: 1 for a job GET, the ids listed for a search."""
    if entry["method"] != "GET" or entry["status"] != 200:
        return 0
    path = entry["path"]
    if api == "keboola" and path.startswith(SEARCH_PATH):
        return path.count("id%5B%5D=") + path.count("id[]=")
    prefix = JOB_READ_PREFIX[api]
    return 1 if path.startswith(prefix) and "/" not in path[len(prefix) :] else 0


def count_requests(entries: list[dict[str, Any]], api: str, start: float, end: float) -> dict[str, int]:
    """API requests and job-state reads the emulator served in ``[start, end)``."""
    inside = [entry for entry in entries if start <= entry["time"] < end and entry["api"] == api]
    return {"requests": len(inside), "job_reads": sum(job_reads(entry, api) for entry in inside)}


def dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
