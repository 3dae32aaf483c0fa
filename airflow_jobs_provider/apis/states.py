"""How an API's raw job states become the five canonical ones: its table plus the task's overrides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_jobs_provider.apis.job import JobStatus
from airflow_jobs_provider.exceptions import JobsConfigError, UnknownJobStateError


def checked_overrides(value: Any) -> dict[str, str]:
    """A task's ``status_overrides`` (raw state → canonical state), checked when the DAG is parsed."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise JobsConfigError(f"status_overrides must be a dict of raw state → canonical state, got {value!r}")
    checked = {}
    for raw, canonical in value.items():
        if not isinstance(raw, str) or not raw:
            raise JobsConfigError(
                f"status_overrides key {raw!r} must be a non-empty raw state string, as the API spells it, "
                "e.g. {'warning': 'SUCCEEDED'}"
            )
        try:
            checked[raw] = JobStatus.parse(canonical).value
        except ValueError as exc:
            raise JobsConfigError(f"status_overrides[{raw!r}]: {exc}") from None
    return checked


class StateMap:
    """One literal raw→canonical table per API, plus the task's own overrides."""

    def __init__(self, api_name: str, table: Mapping[str, JobStatus], overrides: Mapping[str, str] | None = None):
        self.api_name = api_name
        extra = {raw: JobStatus(canonical) for raw, canonical in checked_overrides(overrides).items()}
        # Without overrides the API's own (never mutated) table is shared: one copy, not one per trigger.
        self.table: Mapping[str, JobStatus] = {**table, **extra} if extra else table

    def resolve(self, raw_status: Any, job_id: str) -> JobStatus:
        raw = "" if raw_status is None else str(raw_status)
        try:
            return self.table[raw]
        except KeyError:
            known = ", ".join(sorted(self.table))
            raise UnknownJobStateError(
                f"job {job_id}: {self.api_name} reports state {raw!r}, which this task does not know "
                f"(known: {known}). If it is a real state, map it with status_overrides={{{raw!r}: 'RUNNING'}} "
                "(or SUCCEEDED, FAILED, CANCELLED, PENDING)."
            ) from None
