"""Start scripted jobs on the emulator the way a DAG author's upstream system would."""

from __future__ import annotations

from typing import Any

from airflow_jobs_provider.hooks.jobs import JobsHook

SLOW_START = 5.0
"""Seconds a job runs when a test needs it still running at the task's first poke: a dag.test()
task takes one to four seconds to start on a loaded 2-core machine (two suites side by side)."""


def start_tinybird_job(emulator: Any, outcome: str = "succeeded", **script: Any) -> str:
    script.setdefault("duration", 0.6)
    script.setdefault("queue_seconds", 0.1)
    emulator.script("tinybird", outcome=outcome, **script)
    return JobsHook("jobs_default").start_job({"kind": "copy", "pipe": "upstream_pipe"}).job_id


def jobs_on(emulator: Any, api: str = "tinybird") -> list[dict[str, Any]]:
    return list(emulator.jobs(api))
