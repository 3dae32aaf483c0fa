"""Triggerer restart: N JobStatusTriggers adopted at once on one event loop, against the emulator.

A restarted (or newly assigned) triggerer gets all its trigger rows in one go. It rebuilds each
trigger from its stored kwargs and starts its ``run()`` as a task, yielding to the loop between
two triggers (``TriggerRunner.create_triggers``); this module does exactly that, in a fresh
process (``--worker``), while a 10 ms ticker measures the loop's lag. The emulator runs in a
process of its own and logs every request, so "has this watch polled yet" is read from its log,
not from inside the code under test.

``run(watches, interval)`` returns (all times from the first adoption on):

- ``startup_lag_p50_ms`` / ``startup_lag_p99_ms`` / ``startup_lag_max_ms``: loop lag while the
  triggers start: from the first adoption until every watch has polled, and at least one interval;
- ``startup_seconds_to_all_polling``: until the emulator has served every watched job's first GET;
- ``startup_seconds_to_adopt``: until the last trigger's task exists (the adoption loop ends);
- ``cpu_ms_per_trigger_start``: process CPU (idle CPU taken off) from the first adoption until
  every watch has polled, per trigger: rebuilding it, its hook and connection, its first GET;
- ``ended_reported_p99_s``: for the jobs that had already ended before the restart (``ended``
  of them), how long until their trigger fired its event: "a job that already ended is
  reported at once" still holds when first polls are spread;
- ``polled_fraction``: watches that polled within the measured time (1.0 unless start-up stalls).

``.venv/bin/python -m benchmarks.restart --watches 10000 --interval 10`` prints the dict as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import emulator_jobs  # noqa: E402
from benchmarks.scale_worker import IDLE_MEASURE, IDLE_SETTLE, PRELOAD, Probe, cpu_seconds, percentiles  # noqa: E402

CONN_ID = "jobs_airbyte"
API = "airbyte"
JOB_PATH = "/v1/jobs/"
AFTER_ADOPTION = 1.5
"""The worker keeps running this many intervals after the last adoption, so that every first poll is logged."""
CPU_EVERY = 0.05
"""Seconds between the worker's CPU samples (the parent picks the one at "all polling")."""


def run(watches: int, interval: float, *, ended: int | None = None) -> dict[str, float]:
    """One restart of ``watches`` triggers polling every ``interval`` seconds; ``ended`` of the jobs
    (1% by default) have finished before the restart. A fresh emulator and watcher process per call."""
    ended = max(1, watches // 100) if ended is None else ended
    emulator_jobs.raise_fd_limit()
    with emulator_jobs.emulator_process() as emulator, tempfile.TemporaryDirectory() as scratch:
        lead = 30.0 + watches * 0.001 + (AFTER_ADOPTION + 2) * interval
        emulator.script(API, outcome="succeeded", queue_seconds=0, duration=0, times=ended)
        emulator.script(API, outcome="succeeded", queue_seconds=0, duration=round(lead, 3), times=watches - ended)
        asyncio.run(emulator_jobs._start_jobs(emulator, API, watches))
        now = time.time()
        job_ids = sorted(emulator_jobs.end_times(emulator, API).items(), key=lambda item: int(item[0]))
        ended_ids = [job_id for job_id, end in job_ids if end <= now]
        jobs_file = Path(scratch) / "jobs.json"
        jobs_file.write_text(json.dumps({"jobs": [job_id for job_id, _ in job_ids], "ended": ended_ids}))
        command = [sys.executable, "-m", "benchmarks.restart", "--worker", str(jobs_file), "--url", emulator.url,
                   "--token", emulator.token, "--interval", str(interval)]  # fmt: skip
        answer = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600 + watches * 0.05)
        lines = answer.stdout.strip().splitlines()
        if answer.returncode != 0 or not lines:
            raise RuntimeError(f"the restart worker failed ({answer.returncode}): {answer.stderr[-2000:]}")
        result = json.loads(lines[-1])
        entries = emulator.requests()
    return derive(result, entries, [job_id for job_id, _ in job_ids])


def derive(result: dict[str, Any], entries: list[dict[str, Any]], job_ids: list[str]) -> dict[str, float]:
    """The reported figures, from the worker's samples and the emulator's access log."""
    started, interval = result["started"], result["interval"]
    first: dict[str, float] = {}
    for entry in entries:
        path = entry["path"]
        if entry["method"] == "GET" and path.startswith(JOB_PATH) and entry["time"] >= started:
            first.setdefault(path[len(JOB_PATH) :].split("?")[0], entry["time"])
    polled = [first[job_id] for job_id in job_ids if job_id in first]
    all_polling = max(polled) if len(polled) == len(job_ids) else result["stopped"]
    window_end = max(all_polling, started + interval)
    lags = [lag for at, lag in result["lags"] if started <= at < window_end]
    lag = percentiles(lags, scale=1000.0)
    cpu_at = [cpu for at, cpu in result["cpu"] if at <= all_polling]
    cpu_used = (cpu_at[-1] if cpu_at else result["cpu"][0][1]) - result["cpu_start"]
    cpu_net = cpu_used - result["idle_cpu_per_second"] * (all_polling - started)
    reported = result["ended_reported_s"]
    return {
        "watches": float(len(job_ids)),
        "interval_s": interval,
        "startup_lag_p50_ms": lag["p50"],
        "startup_lag_p99_ms": lag["p99"],
        "startup_lag_max_ms": lag["max"],
        "startup_seconds_to_all_polling": round(all_polling - started, 3),
        "startup_seconds_to_adopt": round(result["adopted"] - started, 3),
        "cpu_ms_per_trigger_start": round(max(0.0, cpu_net) / len(job_ids) * 1000, 4),
        "ended_reported_p99_s": percentiles(reported)["p99"] if reported else float("nan"),
        "ended_jobs": float(len(reported)),
        "polled_fraction": round(len(polled) / len(job_ids), 4),
        "failed": float(result["failed"]),
    }


# -- the watcher process
async def adopt(job_ids: list[str], ended: set[str], interval: float) -> dict[str, Any]:
    """Rebuild and start every trigger as the triggerer does, then keep the loop running a while."""
    from airflow.sdk.serde import deserialize, serialize

    from airflow_jobs_provider.triggers.jobs import JobStatusTrigger

    probe = Probe()
    ticker = asyncio.create_task(probe.run())
    await asyncio.sleep(IDLE_SETTLE)
    idle_from, idle_cpu = time.time(), cpu_seconds()
    await asyncio.sleep(IDLE_MEASURE)
    idle_rate = (cpu_seconds() - idle_cpu) / (time.time() - idle_from)
    classpath, _ = JobStatusTrigger(job_id="0", jobs_conn_id=CONN_ID, poll_interval=interval).serialize()
    rows = [serialize(JobStatusTrigger(job_id=job_id, jobs_conn_id=CONN_ID, poll_interval=interval).serialize()[1])
            for job_id in job_ids]  # fmt: skip
    module, _, name = classpath.rpartition(".")
    reported: list[float] = []
    failures: list[str] = []
    cpu_samples: list[tuple[float, float]] = []

    async def sample_cpu() -> None:
        while True:
            cpu_samples.append((time.time(), cpu_seconds()))
            await asyncio.sleep(CPU_EVERY)

    async def run_trigger(trigger: Any, job_id: str) -> None:
        try:
            async for event in trigger.run():
                if job_id in ended:
                    reported.append(time.time() - started)
                if event.payload.get("status") != "success":
                    failures.append(f"job {job_id}: {event.payload}")
                return
        except Exception as error:  # reported, not raised: one bad watch must not hide the figures
            failures.append(f"job {job_id}: {error!r}")

    import importlib

    trigger_class = getattr(importlib.import_module(module), name)
    sampler = asyncio.create_task(sample_cpu())
    started, cpu_start = time.time(), cpu_seconds()
    tasks = []
    for job_id, row in zip(job_ids, rows, strict=True):
        await asyncio.sleep(0)  # TriggerRunner.create_triggers yields before and after loading each class
        await asyncio.sleep(0)
        trigger = trigger_class(**deserialize(row))
        tasks.append(asyncio.create_task(run_trigger(trigger, job_id)))
    adopted = time.time()
    await asyncio.sleep(AFTER_ADOPTION * interval)
    stopped = time.time()
    sampler.cancel()
    ticker.cancel()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "interval": interval,
        "started": started,
        "adopted": adopted,
        "stopped": stopped,
        "cpu_start": cpu_start,
        "cpu": cpu_samples,
        "idle_cpu_per_second": idle_rate,
        "lags": probe.lags,
        "ended_reported_s": reported,
        "failed": len(failures),
        "failures": failures[:3],
    }


def worker(jobs_file: str, url: str, token: str, interval: float) -> None:
    import importlib

    from benchmarks import peers

    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Airflow logs to stdout: keep it off the protocol line
    emulator_jobs.raise_fd_limit()
    os.environ.update(peers.connection_env(url, token))
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
    for module in PRELOAD["common"] + PRELOAD["ours"]:
        importlib.import_module(module)
    jobs = json.loads(Path(jobs_file).read_text())
    profile_to = os.environ.get("BENCH_PROFILE")  # a path: cProfile the worker into it (for digging)
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    result = asyncio.run(adopt(jobs["jobs"], set(jobs["ended"]), interval))
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(f"{profile_to}.restart")
    print(json.dumps(result), file=protocol, flush=True)


def main(argv: list[str] | None = None) -> dict[str, float] | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watches", type=int, default=10000)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--worker", metavar="JOBS_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.url, args.token, args.interval)
        return None
    result = run(args.watches, args.interval)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
