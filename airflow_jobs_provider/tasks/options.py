"""Check task options when the DAG is parsed, so mistakes surface before anything runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow_jobs_provider.exceptions import JobsConfigError


def seconds(value: Any, name: str) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise JobsConfigError(f"{name} must be a positive number of seconds (or a timedelta), got {value!r}")
    return float(value)


def optional_seconds(value: Any, name: str) -> float | None:
    return None if value is None else seconds(value, name)


def timeout_after_interval(timeout: float | None, interval: float, interval_name: str) -> None:
    """A timeout shorter than the poll interval ends the wait before the second poll: surely a slip."""
    if timeout is not None and timeout < interval:
        raise JobsConfigError(
            f"timeout ({timeout:g}s) is shorter than {interval_name} ({interval:g}s), so the job would be "
            f"checked once at most: raise timeout or lower {interval_name}"
        )


def story_switch(value: Any) -> bool:
    if not isinstance(value, bool):
        raise JobsConfigError(f"job_story must be True or False, got {value!r}")
    return value


def story_interval(value: Any) -> float | None:
    """None (the connection's extra, else the default), or seconds; 0 reads the story at every poll."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise JobsConfigError(
            f"story_interval must be a number of seconds (or a timedelta), 0 to read the story at every poll, "
            f"got {value!r}"
        )
    return float(value)
