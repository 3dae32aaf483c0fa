"""Triggerer scale: N job watches on one event loop, ours against the peers, at 100 to 10,000 watches.

Each run is a fresh ``jobs-emulator`` process and a fresh watcher process (benchmarks/scale_worker.py)
on loopback: the watcher does what a triggerer does (triggers rebuilt from their serialized kwargs,
each ``run()`` a task on one asyncio loop), the emulator serves the jobs and counts the requests.
Contenders (benchmarks/peers.py): ours, ours on an API with batched reads, AirbyteSyncTrigger, a
session-per-poll trigger and the floor (bare GETs on one shared session).

Per run: CPU seconds per 1,000 job-state reads (process CPU in a steady window, idle CPU taken
off), event-loop lag p50/p99, detection latency p50/p99 (job end → event), requests served, peak
RSS per watch. Runs below ``--parallel-below`` watches go side by side (one emulator and one
watcher each: the load is light and the budget is not); the others one at a time.

``make bench``, or: ``.venv-bench/bin/python -m benchmarks.scale [--quick]``. Writes
benchmarks/results/latest.json and benchmarks/results/triggerer_scale.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import emulator_jobs, parse_cost, report  # noqa: E402
from benchmarks.peers import API_OF, CONTENDERS  # noqa: E402
from benchmarks.scale_worker import IDLE_MEASURE, IDLE_SETTLE, WARMUP  # noqa: E402

SPREAD = 0.5
"""Jobs end spread over this many intervals, after the steady window."""
CREATE_SECONDS_PER_JOB = {"airbyte": 0.0007, "keboola": 0.00015}
"""Rough cost of starting a job on the emulator (Airbyte checks each connection's running job)."""
START_SECONDS_PER_WATCH = {"airbyte": 0.015}
"""AirbyteSyncTrigger builds its hook (connection, SDK, HTTP client) on the loop: its jobs end later."""
PACKAGES = ("apache-airflow", "aiohttp", "apache-airflow-providers-airbyte", "airbyte-api", "httpx", "tenacity")
LEAD_SLACK = 3.0
"""Seconds for the watcher to rebuild its triggers before the first one starts."""


def run_one(contender: str, watches: int, interval: float) -> dict[str, Any]:
    """One measured run: a fresh emulator, a fresh watcher process, ``watches`` jobs of the contender's API."""
    api = API_OF[contender]
    with emulator_jobs.emulator_process() as emulator:
        command = [sys.executable, "-m", "benchmarks.scale_worker", "--contender", contender, "--url", emulator.url,
                   "--token", emulator.token, "--interval", str(interval)]  # fmt: skip
        worker = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert worker.stdin is not None and worker.stdout is not None
        try:
            _expect(worker.stdout.readline(), "ready", contender)
            lead = (WARMUP + 1) * interval + LEAD_SLACK + IDLE_SETTLE + IDLE_MEASURE
            lead += watches * (CREATE_SECONDS_PER_JOB[api] + START_SECONDS_PER_WATCH.get(contender, 0.0002))
            created = time.time()
            emulator_jobs.create_jobs(emulator, api, watches, first_end=lead, spread=SPREAD * interval)
            creating = time.time() - created
            ends = emulator_jobs.end_times(emulator, api)
            worker.stdin.write(json.dumps({"ends": ends}) + "\n")
            worker.stdin.flush()
            result = _expect(worker.stdout.readline(), "contender", contender)
        except BaseException:
            worker.kill()
            raise
        finally:
            worker.wait(60)
        entries = emulator.requests()
    return derive(result, entries, api, creating)


def _expect(line: str, key: str, contender: str) -> dict[str, Any]:
    if not line:
        raise RuntimeError(f"the {contender} watcher exited without answering")
    answer: dict[str, Any] = json.loads(line)
    if key not in answer:
        raise RuntimeError(f"the {contender} watcher failed: {answer.get('error', answer)}")
    return answer


def derive(result: dict[str, Any], entries: list[dict[str, Any]], api: str, creating: float) -> dict[str, Any]:
    """The reported numbers of one run, from the watcher's measurements and the emulator's log."""
    watches, interval = result["watches"], result["interval"]
    window_start, window_end = result["window"]
    window = max(1e-9, window_end - window_start)
    steady = emulator_jobs.count_requests(entries, api, window_start, window_end)
    whole = emulator_jobs.count_requests(entries, api, result["started"], result["finished"] + 1)
    cpu_net = result["cpu_window"] - result["idle_cpu_per_second"] * window
    reads = steady["job_reads"]
    detection = result["detection_s"]
    return {
        "contender": result["contender"],
        "api": api,
        "watches": watches,
        "interval_s": interval,
        "window_s": round(window, 2),
        # None when the work is lost in the idle CPU's noise (a few batched reads a window)
        "cpu_s_per_1000_polls": round(cpu_net / reads * 1000, 4) if reads and cpu_net > 0 else None,
        "polls_in_window": reads,
        "requests_in_window": steady["requests"],
        "requests_per_job_per_interval": round(steady["requests"] / watches / (window / interval), 4),
        "requests_served": whole["requests"],
        "loop_lag_ms": result["lag_ms_window"],
        "loop_lag_ms_whole_run": result["lag_ms_run"],
        "detection_latency_ms": {
            "p50": round(detection["p50"] * 1000, 1),
            "p99": round(detection["p99"] * 1000, 1),
            "max": round(detection["max"] * 1000, 1),
        },
        "undetected": result["undetected"],
        "failed": result["failed"],
        "failures": result["failures"],
        "bytes_rss_per_watch": round((result["rss_peak"] - result["rss_baseline"]) / watches),
        "rss_baseline_mb": round(result["rss_baseline"] / 2**20, 1),
        "rss_peak_mb": round(result["rss_peak"] / 2**20, 1),
        "job_creation_s": round(creating, 1),
        "idle_cpu_per_second": round(result["idle_cpu_per_second"], 5),
    }


def plan(sizes: list[int], contenders: list[str], slow_peer_max: int) -> list[tuple[int, list[str]]]:
    """Contenders per size; AirbyteSyncTrigger stops at ``slow_peer_max`` (it blocks the loop per poll)."""
    return [(size, [c for c in contenders if c != "airbyte" or size <= slow_peer_max]) for size in sizes]


def environment() -> dict[str, Any]:
    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "packages": {name: version(name) for name in PACKAGES},
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watches", default="100,1000,10000", help="comma-separated numbers of watches")
    parser.add_argument("--interval", type=float, default=10.0, help="poll interval, seconds")
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--slow-peer-max", type=int, default=1000, help="most watches AirbyteSyncTrigger gets")
    parser.add_argument("--parallel-below", type=int, default=10000, help="runs with fewer watches go side by side")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--quick", action="store_true", help="a smoke run: 50 and 300 watches, 2 s interval")
    args = parser.parse_args(argv)
    sizes = [50, 300] if args.quick else [int(size) for size in args.watches.split(",")]
    interval = 2.0 if args.quick else args.interval
    emulator_jobs.raise_fd_limit()
    started = time.time()

    runs: list[dict[str, Any]] = []
    for size, contenders in plan(sizes, args.contenders.split(","), args.slow_peer_max):
        print(f"{size} watches: {', '.join(contenders)}", flush=True)
        if size < args.parallel_below:
            with ThreadPoolExecutor(len(contenders)) as pool:
                batch = list(pool.map(lambda contender, n=size: run_one(contender, n, interval), contenders))
        else:
            batch = [run_one(contender, size, interval) for contender in contenders]
        for run in batch:
            run["side_by_side"] = size < args.parallel_below
        runs.extend(batch)
    parse = parse_cost.import_overhead()
    summary = report.summarize(runs, parse, interval, args.slow_peer_max)
    summary["environment"] = environment()
    summary["bench_seconds"] = round(time.time() - started, 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = "quick.json" if args.quick else "latest.json"
    (out / name).write_text(json.dumps(summary, indent=2) + "\n")
    print(report.table(summary))
    chart = report.chart(summary, out / ("quick.png" if args.quick else "triggerer_scale.png"))
    print(f"wrote {out / name}" + (f" and {chart}" if chart else ""))
    return summary


if __name__ == "__main__":
    main()
