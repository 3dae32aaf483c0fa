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
from pathlib import Path
from typing import Any

from airflow_jobs_provider.emulator.control.client import EmulatorServer

TOKEN = "bench-token-5d1e"
DURATION_STEPS = 50
"""Jobs end in this many evenly spaced groups: scripts are queued per group, not per job."""
CREATE_CONCURRENCY = 16
JOB_READ_PREFIX = {"airbyte": "/v1/jobs/", "keboola": "/jobs/", "tinybird": "/v0/jobs/", "acme": "/acme/v2/runs/"}
SEARCH_PATH = "/search/jobs?"
BULK_SPEC = {"tinybird": {"kind": "copy", "pipe": "sales_rollup"}, "acme": {"task": "nightly_report"},
             "keboola": {"component": "keboola.ex-db-snowflake", "config": "554424643"}}  # fmt: skip
"""APIs whose jobs are made through the control endpoint's bulk call (no start request each)."""
BULK_MAX = 10_000


def raise_fd_limit() -> None:
    """10,000 watches may hold thousands of sockets: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@contextmanager
def emulator_process(tls: tuple[Path, Path] | None = None) -> Iterator[EmulatorServer]:
    """A ``jobs-emulator`` on a free loopback port, in its own process, for the ``with`` block.

    ``tls``: (certificate chain, key) PEM files: the emulator then serves HTTPS itself
    (benchmarks/tls_emulator.py), so the watcher pays real handshakes and no proxy sits between.
    """
    if tls is None:
        launch = (
            "import sys; from benchmarks.emulator_jobs import raise_fd_limit; raise_fd_limit(); "
            "from airflow_jobs_provider.emulator.__main__ import main; sys.exit(main(sys.argv[1:]))"
        )
        command = [sys.executable, "-c", launch, "--port", "0", "--faktory-port", "0", "--token", TOKEN]
    else:
        command = [sys.executable, "-m", "benchmarks.tls_emulator", "--token", TOKEN, "--cert", str(tls[0]),
                   "--key", str(tls[1])]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if "listening on" not in first:
            raise RuntimeError(f"the emulator did not start: {first!r}")
        url = first.split()[-1]
        control = first.split()[-2] if tls is not None else url  # the control endpoint stays plain HTTP
        yield BenchEmulator(url, TOKEN, control_url=control)
    finally:
        process.terminate()
        process.wait(10)


class BenchEmulator(EmulatorServer):
    """An emulator process: ``api_url`` is where watchers go (HTTPS on the TLS runs), ``url`` takes control calls."""

    def __init__(self, url: str, token: str, control_url: str) -> None:
        super().__init__(control_url, token, timeout=120)
        self.api_url = url.rstrip("/")


def create_jobs(emulator: EmulatorServer, api: str, count: int, first_end: float, spread: float) -> list[str]:
    """``count`` jobs on ``api`` that end between ``first_end`` and ``first_end + spread`` seconds from now.

    The scripted duration counts from each job's creation, so creating takes a little from the
    first group's lead; ``end_times`` reads the real ends back. Returns the ids when the jobs were
    made in bulk (an empty list when each was started through the API).
    """
    if api in BULK_SPEC:
        ids: list[str] = []
        made = 0
        while made < count:  # the control endpoint makes at most BULK_MAX jobs a call
            part = min(BULK_MAX, count - made)
            offset = spread * made / max(1, count - 1)
            ids += emulator.create_jobs(api, part, BULK_SPEC[api], ends_in=first_end + offset,
                                        spread=spread * max(0, part - 1) / max(1, count - 1), duration=1.0)  # fmt: skip
            made += part
        return ids
    groups = min(DURATION_STEPS, count)
    for group in range(groups):
        times = count // groups + (1 if group < count % groups else 0)
        duration = first_end + spread * group / groups
        emulator.script(api, outcome="succeeded", queue_seconds=0, duration=round(duration, 3), times=times)
    asyncio.run(_start_jobs(emulator, api, count))
    return []


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
