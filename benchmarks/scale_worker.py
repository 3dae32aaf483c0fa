"""One measured run of the triggerer-scale benchmark: N watches of one contender on one event loop.

Run by ``benchmarks/scale.py`` in a fresh process per run, so that its RSS is that run's alone.
It speaks a two-line protocol on the stdout it was started with (Airflow's own logs go to
/dev/null, at INFO, as in a triggerer whose logs are shipped elsewhere):

1. after the imports it prints ``{"ready": ...}`` and idles with its ticker running, so that the
   idle CPU (ticker, Airflow's background) can be subtracted later;
2. it reads one JSON line on stdin: the jobs (id → end time, from the emulator);
3. it starts the N watches spread evenly over one poll interval (as deferrals arrive over time),
   measures a steady window of one interval in which every watch polls once and no job ends,
   waits for every job's end to be seen, and prints the results as one JSON line.

With ``--hold`` (the capacity runs: 10,000 to 100,000 watches at a 60 s interval) the watches
start over ``--start-over`` seconds instead, the jobs do not end, and the run stops after the
steady window: it measures what holding N watches costs, not how fast they end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
TICK = 0.01
"""Seconds between ticks of the loop-lag probe."""
RSS_EVERY = 0.25
IDLE_SETTLE, IDLE_MEASURE = 0.5, 2.0
"""Idle CPU (ticker, Airflow's background) is measured over 2 s, from 0.5 s after the imports."""
WARMUP = 1.1
"""The steady window starts this many intervals after the first watch started."""
PRELOAD: dict[str, tuple[str, ...]] = {
    "common": ("aiohttp", "airflow.sdk", "airflow.sdk.serde", "airflow.triggers.base"),
    "ours": ("airflow_jobs_provider.hooks.jobs", "airflow_jobs_provider.triggers.jobs"),
    "ours_batched": (
        "airflow_jobs_provider.hooks.jobs", "airflow_jobs_provider.triggers.jobs",
        "airflow_jobs_provider.triggers.batch_poller",
    ),
    "airbyte": ("airflow.providers.airbyte.triggers.airbyte",),
}  # fmt: skip
for _name in ("ours_batched_tinybird", "ours_batched_airbyte", "ours_batched_rest"):
    PRELOAD[_name] = PRELOAD["ours_batched"]
PRELOAD["ours_tls"] = PRELOAD["ours"]
HOLD_SETTLE = 3.0
"""Seconds after the last of the held watches started before their window opens (their first looks are done)."""
DRAIN = 2.0
"""After the last job's end, watches get this many intervals (plus 5 s) to see it, then are cancelled."""


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Probe:
    """Loop lag (how late a 10 ms ticker wakes up), RSS samples and process CPU time."""

    def __init__(self) -> None:
        self.lags: list[tuple[float, float]] = []
        self.peak_rss = 0
        self.gc_pauses: list[tuple[float, int, float]] = []  # (when, generation, seconds)
        self._gc_started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        """Garbage-collector pauses: at 100,000 watches a full collection walks millions of objects."""
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pauses.append((time.time(), info["generation"], time.perf_counter() - self._gc_started))

    def gc_stats(self, start: float, end: float) -> dict[str, float]:
        inside = [(generation, seconds) for at, generation, seconds in self.gc_pauses if start <= at < end]
        full = [seconds for generation, seconds in inside if generation == 2]
        return {
            "collections": len(inside),
            "full_collections": len(full),
            "total_ms": round(sum(seconds for _, seconds in inside) * 1000, 1),
            "max_full_ms": round(max(full, default=0.0) * 1000, 1),
        }

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + TICK
        next_rss = 0.0
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            now = loop.time()
            self.lags.append((time.time(), now - due))
            due = now + TICK
            if now >= next_rss:
                self.peak_rss = max(self.peak_rss, rss_bytes())
                next_rss = now + RSS_EVERY

    def lag_stats(self, start: float = 0.0, end: float = float("inf")) -> dict[str, float]:
        return percentiles([lag for at, lag in self.lags if start <= at < end], scale=1000.0)


def percentiles(values: list[float], scale: float = 1.0) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "count": 0}
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * scale, 3)

    return {"p50": at(0.50), "p99": at(0.99), "max": round(ordered[-1] * scale, 3), "count": len(ordered)}


def cpu_seconds() -> float:
    return time.process_time()


async def measure(
    contender: str,
    url: str,
    token: str,
    interval: float,
    protocol: TextIO,
    ca: str | None = None,
    hold: bool = False,
    start_over: float | None = None,
) -> dict[str, Any]:
    from benchmarks import peers

    probe = Probe()
    ticker = asyncio.create_task(probe.run())
    gc.collect()
    baseline_rss = rss_bytes()
    print(json.dumps({"ready": True, "pid": os.getpid()}), file=protocol, flush=True)
    reading = asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await asyncio.sleep(IDLE_SETTLE)
    idle_from, idle_cpu = time.time(), cpu_seconds()
    line = await reading
    await asyncio.sleep(max(0.0, idle_from + IDLE_MEASURE - time.time()))
    idle_rate = (cpu_seconds() - idle_cpu) / (time.time() - idle_from)
    ends: dict[str, float] = json.loads(line)["ends"]
    job_ids = sorted(ends, key=lambda job_id: ends[job_id])

    seen_at: dict[str, float] = {}

    def seen(job_id: str) -> None:
        seen_at[job_id] = time.time()

    floor = peers.Floor(url, token, ca) if contender in ("floor", "floor_tls") else None
    if floor is not None:
        await floor.__aenter__()
        watches = floor.watches(job_ids, interval, seen)
    else:
        watches = peers.trigger_watches(contender, job_ids, interval, seen)
    # Start order is shuffled against end order, so that when a watch started says nothing of when it ends.
    order = sorted(range(len(watches)), key=lambda index: (index * 7919) % len(watches))
    started = time.time()
    tasks = await start_spread([watches[index] for index in order], interval if start_over is None else start_over)
    # The window opens once every watch has started and polled (a peer that blocks the loop while it
    # starts takes longer than one interval) and closes one interval later, or at the first job end.
    all_started = time.time()
    window_start = max(started + WARMUP * interval, all_started + (WARMUP - 1) * interval)
    if hold:  # every watch has had its first look; the window then holds one full round of polls
        window_start = all_started + HOLD_SETTLE
    await asyncio.sleep(max(0.0, window_start - time.time()))
    window_start, cpu_start = time.time(), cpu_seconds()  # when the loop really got here
    window_end = min(window_start + interval, min(ends.values()))
    await asyncio.sleep(max(0.0, window_end - time.time()))
    window_end, cpu_window = time.time(), cpu_seconds() - cpu_start
    rss_window = probe.peak_rss
    give_up = time.time() if hold else max(ends.values()) + DRAIN * interval + 5.0
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, give_up - time.time()))
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=30)  # let the cancelled watches close their sessions
    failures = [repr(task.exception()) for task in tasks if task.done() and not task.cancelled() and task.exception()]
    finished = time.time()
    ticker.cancel()
    if floor is not None:
        await floor.__aexit__()
    latencies = [seen_at[job_id] - ends[job_id] for job_id in seen_at]
    return {
        "contender": contender,
        "watches": len(job_ids),
        "interval": interval,
        "started": started,
        "finished": finished,
        "window": [window_start, window_end],
        "idle_cpu_per_second": idle_rate,
        "cpu_window": cpu_window,
        "lag_ms_window": probe.lag_stats(window_start, window_end),
        "lag_ms_run": probe.lag_stats(started, finished),
        "gc_window": probe.gc_stats(window_start, window_end),
        "detection_s": percentiles(latencies),
        "undetected": 0 if hold else len(job_ids) - len(seen_at),
        "hold": hold,
        "early": sum(1 for latency in latencies if latency < 0),
        "failures": failures[:3],
        "failed": len(failures),
        "rss_baseline": baseline_rss,
        "rss_peak_window": rss_window,
        "rss_peak": probe.peak_rss,
    }


async def start_spread(watches: list[Callable[[], Any]], interval: float) -> list[asyncio.Task[Any]]:
    """Start watch k at k/N of an interval: deferrals arrive over time, so polls are spread too."""
    tasks: list[asyncio.Task[Any]] = []
    started = time.monotonic()
    step = interval / max(1, len(watches))
    for index, watch in enumerate(watches):
        delay = started + index * step - time.monotonic()
        if delay > 0.005:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(watch()))
    return tasks


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contender", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--ca", default=None, help="CA bundle the connections trust (the HTTPS runs)")
    parser.add_argument("--hold", action="store_true", help="capacity run: jobs do not end; stop after the window")
    parser.add_argument("--start-over", type=float, default=None, help="start the watches over this many seconds")
    args = parser.parse_args(argv)

    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Airflow logs to stdout/stderr: keep them, discard them
    os.dup2(devnull, sys.stderr.fileno())
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks import peers
    from benchmarks.emulator_jobs import raise_fd_limit

    raise_fd_limit()
    os.environ.update(peers.connection_env(args.url, args.token, args.ca))
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
    for module in PRELOAD["common"] + PRELOAD.get(args.contender, ()):
        importlib.import_module(module)  # every import happens before the RSS baseline
    profile_to = os.environ.get("BENCH_PROFILE")  # a path: cProfile the whole run into it (for digging)
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        result = asyncio.run(
            measure(args.contender, args.url, args.token, args.interval, protocol, args.ca, args.hold, args.start_over)
        )
    except BaseException as error:  # tell the orchestrator instead of leaving it waiting
        print(json.dumps({"error": repr(error)}), file=protocol, flush=True)
        raise
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(f"{profile_to}.{args.contender}")
    print(json.dumps(result), file=protocol, flush=True)


if __name__ == "__main__":
    main()
