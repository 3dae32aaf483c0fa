"""What a JobEventTrigger is told to watch, checked: filters and match as plain JSON, terminal states.

The trigger itself is ``triggers.jobs.JobEventTrigger``; its kwargs must survive the round trip
through the database unchanged, and its cursor key and shared-stream key are built from them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.values import dig
from airflow_jobs_provider.exceptions import JobsConfigError

STREAM = "airflow_jobs_provider.JobEventTrigger"
"""Names the shared streams of event watchers (Airflow 3.3+): part of every shared-stream key."""
DEFAULT_STATES = ("SUCCEEDED",)
DEFAULT_POLL_INTERVAL = 30.0


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def plain_json(value: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    """Kwargs must survive the trigger's round trip through the database unchanged: plain JSON."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(key, str) and key for key in value):
        raise JobsConfigError(f"{name} must be a dict of field names to values, got {value!r}")
    try:
        return dict(json.loads(json.dumps(dict(value))))
    except (TypeError, ValueError):
        raise JobsConfigError(
            f"{name} must be plain JSON (strings, numbers, lists), got {value!r}: write times as ISO 8601 strings"
        ) from None


def terminal_states(states: Sequence[str] | str) -> frozenset[JobStatus]:
    values = [states] if isinstance(states, str) else list(states)
    if not values:
        raise JobsConfigError("states is empty: give at least one of SUCCEEDED, FAILED, CANCELLED")
    parsed = set()
    for value in values:
        try:
            status = value if isinstance(value, JobStatus) else JobStatus.parse(value)
        except ValueError as error:
            raise JobsConfigError(f"states: {error}") from None
        if not status.is_terminal:
            raise JobsConfigError(
                f"states: {status.value} is not a state a job finishes in; use SUCCEEDED, FAILED or CANCELLED"
            )
        parsed.add(status)
    return frozenset(parsed)


def matches(match: Mapping[str, Any], job: Job) -> bool:
    """Every dotted payload field of ``match`` holds the value (or one of the values) it names."""
    for path, wanted in match.items():
        value = dig(job.payload, path)
        choices = wanted if isinstance(wanted, list) else [wanted]
        if value is None or isinstance(value, (dict, list)) or str(value) not in {str(c) for c in choices}:
            return False
    return True
