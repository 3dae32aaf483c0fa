"""Triggerer scale: N job watches on one event loop, ours against the peers, at 100 to 100,000 watches.

Each run is a fresh ``jobs-emulator`` process and a fresh watcher process (benchmarks/scale_worker.py)
on loopback: the watcher does what a triggerer does (triggers rebuilt from their serialized kwargs,
each ``run()`` a task on one asyncio loop), the emulator serves the jobs and counts the requests.
Contenders (benchmarks/peers.py): ours on the per-job path, ours batched, AirbyteSyncTrigger, a
session-per-poll trigger and the floor (bare GETs on one shared session).

The phases of one ``make bench``:

1. the sweep: every contender at 100, 1,000 and 10,000 watches (AirbyteSyncTrigger up to 1,000),
   10 s interval, plus at 1,000: ours on each API as installed (tinybird, keboola, airbyte, rest:
   batched where the code batches that API) and ours, session-per-poll and the floor over HTTPS;
2. capacity: batched watches at a 60 s interval in one process, 100,000, then 30,000 and
   10,000 if the larger one fails: the most with loop lag p99 under 100 ms;
3. DAG-parse import overhead; then, when their modules are there, the restart benchmark
   (benchmarks/restart.py) and the worker-slot benchmark (benchmarks/worker_slots.py).

Per run: CPU per job-state read and per watched job per interval (process CPU in a steady window,
idle CPU taken off), event-loop lag p50/p99, detection latency p50/p99 (job end → event),
requests served, peak RSS per watch. Light runs go side by side (one emulator and one watcher
each); heavy ones one at a time.

``make bench``, or: ``.venv-bench/bin/python -m benchmarks.scale [--quick]``. Writes
benchmarks/results/latest.json and benchmarks/results/triggerer_scale.png.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import emulator_jobs, parse_cost, report  # noqa: E402
from benchmarks.peers import API_OF, BATCHED_BY_API, CONTENDERS, TLS_CONTENDERS  # noqa: E402
from benchmarks.scale_worker import IDLE_MEASURE, IDLE_SETTLE, WARMUP  # noqa: E402
from benchmarks.tls import TlsFiles, make_tls_files  # noqa: E402

SPREAD = 0.5
"""Jobs end spread over this many intervals, after the steady window."""
CREATE_SECONDS_PER_JOB = {"airbyte": 0.0007, "keboola": 0.00005, "tinybird": 0.00005, "acme": 0.00005}
"""Rough cost of starting a job on the emulator (Airbyte checks each connection's running job)."""
START_SECONDS_PER_WATCH = {"airbyte": 0.015}
BUILD_SECONDS_PER_WATCH = 0.0003
"""Rebuilding a trigger from its serialized kwargs (the held runs start only once all are rebuilt)."""
CAPACITY_INTERVAL = 60.0
CAPACITY_STEPS = (100_000, 30_000, 10_000)
"""Largest first: the first size held with lag p99 < 100 ms is the answer, the smaller ones need no run."""
CAPACITY_START_OVER = 10.0
"""The held watches start over this many seconds (deferrals arriving), then one full interval is measured."""
TLS_AT = 1000
"""AirbyteSyncTrigger builds its hook (connection, SDK, HTTP client) on the loop: its jobs end later."""
PACKAGES = ("apache-airflow", "aiohttp", "apache-airflow-providers-airbyte", "airbyte-api", "httpx", "tenacity")
LEAD_SLACK = 3.0
"""Seconds for the watcher to rebuild its triggers before the first one starts."""


def run_one(
    contender: str, watches: int, interval: float, tls: TlsFiles | None = None, hold: bool = False
) -> dict[str, Any]:
    """One measured run: a fresh emulator, a fresh watcher process, ``watches`` jobs of the contender's API.

    ``tls``: the emulator serves HTTPS and the watcher trusts the CA. ``hold``: a capacity run
    (the jobs do not end; the watcher stops after its window).
    """
    api = API_OF[contender]
    began = time.time()
    with emulator_jobs.emulator_process((tls.cert_chain, tls.key) if tls else None) as emulator:
        command = [sys.executable, "-m", "benchmarks.scale_worker", "--contender", contender, "--url",
                   emulator.api_url, "--token", emulator.token, "--interval", str(interval)]  # fmt: skip
        if tls is not None:
            command += ["--ca", str(tls.ca)]
        if hold:
            command += ["--hold", "--start-over", str(CAPACITY_START_OVER)]
        worker = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert worker.stdin is not None and worker.stdout is not None
        try:
            _expect(worker.stdout.readline(), "ready", contender)
            if hold:  # the jobs end long after the run: it measures holding them
                lead, spread = 3600.0, 0.0
            else:
                lead = (WARMUP + 1) * interval + LEAD_SLACK + IDLE_SETTLE + IDLE_MEASURE
                lead += watches * (CREATE_SECONDS_PER_JOB[api] + START_SECONDS_PER_WATCH.get(contender, 0.0002))
                lead += watches * BUILD_SECONDS_PER_WATCH
                spread = SPREAD * interval
            created = time.time()
            ids = emulator_jobs.create_jobs(emulator, api, watches, first_end=lead, spread=spread)
            creating = time.time() - created
            # held jobs never end in the run: no need to read 100,000 jobs back
            ends = dict.fromkeys(ids, created + lead) if hold and ids else emulator_jobs.end_times(emulator, api)
            worker.stdin.write(json.dumps({"ends": ends}) + "\n")
            worker.stdin.flush()
            result = _expect(worker.stdout.readline(), "contender", contender)
        except BaseException:
            worker.kill()
            raise
        finally:
            worker.wait(60)
        entries = emulator.requests()
    run = derive(result, entries, api, creating)
    run["transport"] = "https" if tls else "http"
    run["run_seconds"] = round(time.time() - began, 1)  # wall time of the whole run: what make bench spends on it
    return run


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
    intervals = window / interval
    return {
        "contender": result["contender"],
        "api": api,
        "watches": watches,
        "interval_s": interval,
        "window_s": round(window, 2),
        # None when the work is lost in the idle CPU's noise (a few batched reads a window)
        "cpu_s_per_1000_polls": round(cpu_net / reads * 1000, 4) if reads and cpu_net > 0 else None,
        # CPU per watched job per poll interval: comparable across per-job and batched contenders
        "cpu_ms_per_watch_interval": round(cpu_net * 1000 / watches / intervals, 5) if cpu_net > 0 else None,
        "polls_in_window": reads,
        "requests_in_window": steady["requests"],
        "requests_per_job_per_interval": round(steady["requests"] / watches / intervals, 4),
        "requests_served": whole["requests"],
        "loop_lag_ms": result["lag_ms_window"],
        "loop_lag_ms_whole_run": result["lag_ms_run"],
        "gc_in_window": result["gc_window"],
        "detection_latency_ms": {
            "p50": round(detection["p50"] * 1000, 1),
            "p99": round(detection["p99"] * 1000, 1),
            "max": round(detection["max"] * 1000, 1),
        },
        "undetected": result["undetected"],
        "early": result["early"],
        "hold": result["hold"],
        "failed": result["failed"],
        "failures": result["failures"],
        "bytes_rss_per_watch": round((result["rss_peak"] - result["rss_baseline"]) / watches),
        "rss_baseline_mb": round(result["rss_baseline"] / 2**20, 1),
        "rss_peak_mb": round(result["rss_peak"] / 2**20, 1),
        "job_creation_s": round(creating, 1),
        "idle_cpu_per_second": round(result["idle_cpu_per_second"], 5),
    }


def plan(sizes: list[int], contenders: list[str], slow_peer_max: int, extra_at: int) -> list[tuple[int, list[str]]]:
    """Waves of runs per size; AirbyteSyncTrigger stops at ``slow_peer_max`` (it blocks the loop per poll).

    At ``extra_at`` watches two waves: the sweep's contenders with ours on Airbyte as installed
    (side by side with AirbyteSyncTrigger), then ours on Tinybird and REST and the HTTPS trio.
    """
    waves = []
    for size in sizes:
        wave = [c for c in contenders if c != "airbyte" or size <= slow_peer_max]
        if size == extra_at:
            waves.append((size, [*wave, BATCHED_BY_API["airbyte"]]))
            others = [name for api, name in BATCHED_BY_API.items() if api not in ("keboola", "airbyte")]
            waves.append((size, [*others, *TLS_CONTENDERS]))
        else:
            waves.append((size, wave))
    return waves


def run_wave(
    size: int, contenders: list[str], interval: float, side_by_side: bool, tls: TlsFiles
) -> list[dict[str, Any]]:
    """One wave: side by side (light runs), or one at a time; light batched runs ride along with a heavy one."""

    def one(contender: str) -> dict[str, Any]:
        return run_one(contender, size, interval, tls if contender in TLS_CONTENDERS else None)

    if side_by_side:
        with ThreadPoolExecutor(len(contenders)) as pool:
            batch = list(pool.map(one, contenders))
    else:
        light = [c for c in contenders if c == "ours_batched"]  # 0.01 requests per job: barely any load
        heavy = [c for c in contenders if c not in light]
        batch = []
        for index, contender in enumerate(heavy):
            riders = light if index == len(heavy) - 1 else []
            with ThreadPoolExecutor(1 + len(riders)) as pool:
                batch += list(pool.map(one, [contender, *riders]))
    for run in batch:
        run["side_by_side"] = side_by_side or run["contender"] == "ours_batched"
    return batch


def capacity(steps: tuple[int, ...], interval: float) -> list[dict[str, Any]]:
    """Held batched watches at ``interval``, largest first, until one size keeps loop lag p99 < 100 ms."""
    runs = []
    for size in steps:
        print(f"capacity: {size} batched watches at a {interval:g} s interval", flush=True)
        run = run_one("ours_batched", size, interval, hold=True)
        runs.append(run)
        if report.held(run):
            break
    return runs


def optional(name: str, **kwargs: Any) -> dict[str, Any]:
    """``benchmarks/<name>.py``'s ``run(**kwargs)``, or why it was not measured (never an invented figure).

    The contract with those modules: ``restart.run(watches=10000, interval=10.0)`` returns
    ``startup_lag_p99_ms_10000`` and ``startup_seconds_to_all_polling_10000`` (and ``interval_s``
    when it used another interval); ``worker_slots.run()`` returns ``worker_slot_seconds_per_watch``.
    Anything else they return is kept in latest.json as it is. A module that fails is reported as
    not measured, with its error: the rest of the run's figures stand.
    """
    try:
        module = importlib.import_module(f"benchmarks.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"benchmarks.{name}":
            return {"measured": False, "why": f"benchmarks/{name}.py cannot be imported: {error!r}"}
        return {"measured": False, "why": f"benchmarks/{name}.py is not there"}
    print(f"{name}: {', '.join(f'{key}={value}' for key, value in kwargs.items())}", flush=True)
    started = time.time()
    try:
        result: dict[str, Any] = dict(module.run(**kwargs))
    except Exception as error:  # another branch's benchmark: its failure must not lose this run's figures
        return {"measured": False, "why": f"benchmarks/{name}.py failed: {error!r}"}
    result.setdefault("measured", True)
    result["seconds"] = round(time.time() - started, 1)
    return result


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
    parser.add_argument("--capacity", default=",".join(map(str, CAPACITY_STEPS)),
                        help="held batched watches at a 60 s interval, largest first ('' skips)")  # fmt: skip
    parser.add_argument("--no-optional", action="store_true", help="skip benchmarks/restart.py and worker_slots.py")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--quick", action="store_true", help="a smoke run: 50 and 300 watches, 2 s interval")
    args = parser.parse_args(argv)
    sizes = [50, 300] if args.quick else [int(size) for size in args.watches.split(",")]
    interval = 2.0 if args.quick else args.interval
    extra_at = 300 if args.quick else TLS_AT
    steps = (3000, 1000) if args.quick else tuple(int(size) for size in args.capacity.split(",") if size)
    capacity_interval = 10.0 if args.quick else CAPACITY_INTERVAL
    emulator_jobs.raise_fd_limit()
    started = time.time()

    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="jobs-bench-tls-") as directory:
        tls = make_tls_files(Path(directory))
        for size, contenders in plan(sizes, args.contenders.split(","), args.slow_peer_max, extra_at):
            print(f"{size} watches: {', '.join(contenders)}", flush=True)
            runs.extend(run_wave(size, contenders, interval, size < args.parallel_below, tls))
    held = capacity(steps, capacity_interval)
    parse = parse_cost.import_overhead()
    extras = {}
    if not args.no_optional:
        extras["restart"] = optional("restart", watches=10000, interval=interval)
        extras["worker_slots"] = optional("worker_slots")
    summary = report.summarize(
        runs, parse, interval, args.slow_peer_max, capacity_runs=held, extras=extras, batched_at=extra_at
    )
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
