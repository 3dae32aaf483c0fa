"""What the soak did to each job and what the provider reported, and the report built from it."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from airflow_jobs_provider.hooks.retry import RetryEvent
from tests.soak.plan import SoakApi

TRANSPORT_LOGGERS = ("airflow_jobs_provider.hooks.retry",)
"""Every transport's retries are logged by the one retry loop (hooks/retry.py)."""
QUIET_LOGGERS = ("airflow_jobs_provider", "airflow.task", "airflow_jobs_provider.triggers")


@dataclass
class JobRun:
    """One start attempted by the soak, and everything that followed it."""

    api: SoakApi
    n: int
    way: str
    """``poke`` (sync hook, JobSensor.poke in a worker thread) or ``trigger`` (JobStatusTrigger)."""
    marker: str
    spec: dict[str, Any]
    kill_after: float | None = None
    start: str = ""
    """``ok``, ``uncertain`` (JobStartUncertainError) or ``error: <class>``."""
    job_id: str | None = None
    recovered: bool | None = None
    """For an uncertain start: True when listing found the job, False when it shows none."""
    reported: str = ""
    """SUCCEEDED / FAILED / CANCELLED as the provider reported it, ``killed``, or ``error: ...``."""
    cancel: str = ""
    """For a killed task: ``cancelled`` or the error the kill path logged."""


class RetryRecorder(logging.Handler):
    """Collects the RetryEvent every retry logs (``jobs_retry``), from every thread and loop."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.events: list[RetryEvent] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "jobs_retry", None)
        if isinstance(event, RetryEvent):
            with self._lock:
                self.events.append(event)


@contextmanager
def recording_retries() -> Iterator[RetryRecorder]:
    """Record retries; keep the thousands of retry warnings and progress lines out of the test log."""
    recorder = RetryRecorder()
    saved = {name: (logging.getLogger(name).level, logging.getLogger(name).propagate) for name in QUIET_LOGGERS}
    for name in TRANSPORT_LOGGERS:
        logging.getLogger(name).addHandler(recorder)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in TRANSPORT_LOGGERS:
        logging.getLogger(name).propagate = False
    try:
        yield recorder
    finally:
        for name in TRANSPORT_LOGGERS:
            logging.getLogger(name).removeHandler(recorder)
            logging.getLogger(name).propagate = True
        for name, (level, propagate) in saved.items():
            logging.getLogger(name).setLevel(level)
            logging.getLogger(name).propagate = propagate


@dataclass
class Report:
    jobs: int = 0
    by_way: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    faktory_commands: int = 0
    retries: int = 0
    max_attempts_one_request: int = 0
    max_retry_seconds: float = 0.0
    min_wait_over_retry_after: float | None = None
    faults: dict[str, int] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)
    uncertain_starts: int = 0
    uncertain_found: int = 0
    uncertain_absent: int = 0
    killed: int = 0
    jobs_on_emulator: int = 0
    wall_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "by_way": dict(self.by_way),
            "attempts": self.attempts,
            "attempts_http": self.attempts - self.faktory_commands,
            "attempts_faktory": self.faktory_commands,
            "retries": self.retries,
            "max_attempts_one_request": self.max_attempts_one_request,
            "max_retry_seconds": round(self.max_retry_seconds, 3),
            "min_wait_minus_retry_after": (
                None if self.min_wait_over_retry_after is None else round(self.min_wait_over_retry_after, 3)
            ),
            "faults_injected": self.faults,
            "outcomes": dict(sorted(self.outcomes.items())),
            "uncertain_starts": self.uncertain_starts,
            "uncertain_starts_found_by_listing": self.uncertain_found,
            "uncertain_starts_with_no_job": self.uncertain_absent,
            "killed_tasks": self.killed,
            "jobs_on_emulator": self.jobs_on_emulator,
            "wall_seconds": round(self.wall_seconds, 1),
        }

    def table(self) -> str:
        ways = ", ".join(f"{way} {count}" for way, count in sorted(self.by_way.items()))
        rows = [
            ("jobs started and watched", f"{self.jobs} ({ways})"),
            ("jobs on the emulator", str(self.jobs_on_emulator)),
            (
                "requests sent (attempts)",
                f"{self.attempts} (HTTP {self.attempts - self.faktory_commands}, Faktory {self.faktory_commands})",
            ),
            ("retries", str(self.retries)),
            ("most attempts, one request", str(self.max_attempts_one_request)),
            ("longest retrying, one request", f"{self.max_retry_seconds:.2f}s"),
            (
                "wait - Retry-After (min)",
                "-" if self.min_wait_over_retry_after is None else f"{self.min_wait_over_retry_after:+.3f}s",
            ),
            ("faults injected", ", ".join(f"{kind} {count}" for kind, count in sorted(self.faults.items()))),
            ("outcomes reported", ", ".join(f"{kind} {count}" for kind, count in sorted(self.outcomes.items()))),
            ("uncertain starts (not retried)", str(self.uncertain_starts)),
            ("  found by listing / no job", f"{self.uncertain_found} / {self.uncertain_absent}"),
            ("tasks killed, jobs cancelled", str(self.killed)),
            ("wall time", f"{self.wall_seconds:.1f}s"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(["soak report", *(f"  {name.ljust(width)}  {value}" for name, value in rows)])
