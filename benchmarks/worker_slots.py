"""Worker-slot seconds per watch: how long one watch holds a worker slot, by way of waiting.

Measured on a live Airflow 3.3 (the e2e suite's SQLite deployment, tests/e2e/deployment.py:
api-server, scheduler, dag-processor and triggerer as processes, LocalExecutor), one job wait of
``wait`` seconds per watch, every way at once:

- ``start_from_trigger``: a deferrable JobSensor the scheduler starts in the triggerer;
- ``deferrable``: today's deferrable path (a worker runs ``execute``, defers, a worker resumes it);
- ``poke``: a JobSensor in poke mode (a worker waits the whole time);
- ``airbyte_deferrable``: the Airbyte provider's deferrable AirbyteJobSensor, when installed.

A slot is what the executor has: a LocalExecutor worker process titles itself
``airflow worker -- LocalExecutor: <task instance id>`` while it runs a workload and ``<idle>``
between two. The benchmark samples those titles every ``SAMPLE_SECONDS`` and adds up, per task
instance, the time its id was on a worker (``worker_runs`` counts the workloads). The wait of
each watch starts when Airflow shows it running or deferred; ``wait`` seconds later the job is
set to succeeded on the emulator.

Run it alone: ``python -m benchmarks.worker_slots`` (about 1.5 minutes, most of it the start).
benchmarks/scale.py calls :func:`measure` for benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import threading
import time
from collections import defaultdict
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from benchmarks import emulator_jobs, peers
from tests.e2e.deployment import Deployment
from tests.support.polling import poll_until

DAG_FILE = Path(__file__).resolve().parent / "dags" / "worker_slots_dags.py"
WAYS = {
    "start_from_trigger": "ws_start_from_trigger",
    "deferrable": "ws_deferrable",
    "poke": "ws_poke",
    "airbyte_deferrable": "ws_airbyte_peer",
}
SAMPLE_SECONDS = 0.02
WORKER_TITLE = re.compile(r"LocalExecutor:?\s+([0-9a-f]{8}-[0-9a-f-]{27})")
STARTED = frozenset({"running", "deferred", "up_for_reschedule"})
FINISHED = frozenset({"success", "failed", "skipped", "upstream_failed"})


class SlotDeployment(Deployment):
    """The e2e deployment with only this benchmark's DAGs, and the peer's Airbyte connection."""

    def __init__(self) -> None:
        super().__init__(e2e_dags=False)

    def _link_dags(self) -> None:
        (self.home / "dags" / DAG_FILE.name).symlink_to(DAG_FILE)

    def _airflow_env(self, emulator: Any) -> dict[str, str]:
        env = super()._airflow_env(emulator)
        env.update(peers.connection_env(emulator.url, emulator.token))
        return env


class SlotSampler(threading.Thread):
    """Adds up, per task instance id, the seconds a LocalExecutor worker process ran it."""

    def __init__(self, scheduler_pid: int) -> None:
        super().__init__(daemon=True)
        self.scheduler = psutil.Process(scheduler_pid)
        self.busy: dict[str, float] = defaultdict(float)
        self.runs: dict[str, int] = defaultdict(int)
        self.samples = 0
        self._running: set[str] = set()
        self._done = threading.Event()

    def run(self) -> None:
        last = time.monotonic()
        while not self._done.is_set():
            now = time.monotonic()
            step, last = now - last, now
            running = set()
            for proc in self.scheduler.children(recursive=True):
                try:
                    title = " ".join(proc.cmdline())
                except psutil.Error:
                    continue
                if match := WORKER_TITLE.search(title):
                    running.add(match.group(1))
            for ti_id in running:
                self.busy[ti_id] += step
                if ti_id not in self._running:
                    self.runs[ti_id] += 1
            self._running = running
            self.samples += 1
            self._done.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join(5)


def _ways() -> dict[str, str]:
    try:
        import airflow.providers.airbyte  # noqa: F401
    except ImportError:
        return {way: dag for way, dag in WAYS.items() if way != "airbyte_deferrable"}
    return dict(WAYS)


def measure(wait: float = 8.0, watches_per_way: int = 2) -> dict[str, Any]:
    """The figures, measured on a live deployment started and stopped here."""
    ways = _ways()
    live = SlotDeployment()
    started_at = time.monotonic()
    try:
        live.start(tuple(ways.values()))
        start_seconds = time.monotonic() - started_at
        sampler = SlotSampler(live.components["scheduler"].pid)
        sampler.start()
        try:
            per_run = _watch_all(live, ways, wait, watches_per_way)
        finally:
            sampler.stop()
    finally:
        live.stop()
    return _figures(ways, per_run, sampler, wait, watches_per_way, start_seconds)


def _watch_all(live: Deployment, ways: dict[str, str], wait: float, count: int) -> dict[str, dict[str, Any]]:
    """Run every watch at once; each job succeeds ``wait`` seconds after its watch started."""
    emulator = live.emulator
    assert emulator is not None
    runs = [(way, dag_id, f"{way}-{number}") for way, dag_id in ways.items() for number in range(count)]
    emulator_jobs.create_jobs(emulator, "airbyte", len(runs), first_end=3600, spread=0)
    job_ids = [job["id"] for job in emulator.jobs("airbyte")][-len(runs) :]
    state: dict[str, dict[str, Any]] = {}
    for (way, dag_id, run_id), job_id in zip(runs, job_ids, strict=True):
        live.api.trigger(dag_id, run_id, conf={"job_id": str(job_id)})
        state[run_id] = {"way": way, "dag_id": dag_id, "job_id": job_id, "started": None, "ended": False}

    def step() -> bool:
        for run_id, run in state.items():
            if run["ended"]:
                continue
            ti = live.api.task_instance(run["dag_id"], run_id, "watch")
            now = time.monotonic()
            if ti["state"] in FINISHED:
                run.update(ended=True, ti=ti)
            elif run["started"] is None and ti["state"] in STARTED:
                run["started"] = now
            elif run["started"] is not None and now - run["started"] >= wait and "pinned" not in run:
                emulator.force_state("airbyte", str(run["job_id"]), "succeeded")
                run["pinned"] = now
        return all(run["ended"] for run in state.values())

    poll_until(step, timeout=180 + wait, interval=0.25, what="every watch to finish")
    return state


def _figures(
    ways: dict[str, str],
    per_run: dict[str, dict[str, Any]],
    sampler: SlotSampler,
    wait: float,
    count: int,
    start_seconds: float,
) -> dict[str, Any]:
    slots: dict[str, list[float]] = defaultdict(list)
    workloads: dict[str, list[int]] = defaultdict(list)
    outcomes: dict[str, list[str]] = defaultdict(list)
    for run in per_run.values():
        ti_id = run["ti"]["id"]
        slots[run["way"]].append(round(sampler.busy.get(ti_id, 0.0), 3))
        workloads[run["way"]].append(sampler.runs.get(ti_id, 0))
        outcomes[run["way"]].append(run["ti"]["state"])
    by_way = {way: round(statistics.mean(slots[way]), 3) for way in ways}
    peer = "airbyte_deferrable" in ways
    return {
        "worker_slot_seconds_per_watch": by_way["start_from_trigger"],
        "worker_slot_seconds_per_watch_by_way": by_way,
        "worker_slot_seconds_each_watch": dict(slots),
        "worker_runs_per_watch_by_way": {way: max(workloads[way]) for way in ways},
        "worker_slot_outcomes": dict(outcomes),
        "worker_slot_wait_seconds": wait,
        "worker_slot_watches_per_way": count,
        "worker_slot_sample_seconds": SAMPLE_SECONDS,
        "worker_slot_samples": sampler.samples,
        "worker_slot_deployment_start_seconds": round(start_seconds, 1),
        "worker_slot_airflow": metadata.version("apache-airflow"),
        "worker_slot_peer": f"apache-airflow-providers-airbyte {metadata.version('apache-airflow-providers-airbyte')}"
        if peer
        else "apache-airflow-providers-airbyte not installed (benchmarks/requirements.txt)",
    }


def run() -> dict[str, Any]:
    """``make bench``'s entry point (benchmarks/scale.py ``optional``): the figures at their defaults."""
    return measure()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=8.0, help="seconds each job runs after its watch started")
    parser.add_argument("--watches", type=int, default=2, help="watches per way of waiting")
    args = parser.parse_args()
    print(json.dumps(measure(args.wait, args.watches), indent=2))


if __name__ == "__main__":
    main()
