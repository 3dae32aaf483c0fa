"""The five canonical job states every API's raw states map onto, and the Job they describe."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from airflow_jobs_provider.exceptions import JobsConfigError


class JobStatus(str, Enum):
    """Canonical job state: the sensor, trigger and operator only ever reason about these five."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @classmethod
    def parse(cls, value: str) -> JobStatus:
        """Read a canonical state as a user writes it (any case); raise ValueError otherwise."""
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            names = ", ".join(status.value for status in cls)
            raise ValueError(f"{value!r} is not a job status; use one of {names}") from None


TERMINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


@dataclass(frozen=True)
class Job:
    """One observation of a job, in the API's terms (raw_status, payload) and ours (status)."""

    job_id: str
    status: JobStatus
    raw_status: str
    url: str | None = None
    progress: float | None = None
    message: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON, as pushed to XCom and carried in trigger events."""
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(
            job_id=str(data["job_id"]),
            status=JobStatus(data["status"]),
            raw_status=str(data["raw_status"]),
            url=data.get("url"),
            progress=data.get("progress"),
            message=data.get("message"),
            payload=dict(data.get("payload") or {}),
        )

    def describe(self) -> str:
        """Short human line: 'RUNNING 45%' or 'FAILED (raw: error): message'."""
        text = self.status.value
        if self.progress is not None and not self.status.is_terminal:
            text += f" {self.progress:g}%"
        if self.raw_status.upper() != self.status.value:
            text += f" (raw: {self.raw_status})"
        if self.message:
            text += f": {self.message}"
        return text


IF_RUNNING = ("start", "join", "fail", "cancel")
"""What ``TriggerJobOperator(if_running=...)`` does when a job of the same target runs (apis/starting.py)."""


def check_if_running(value: Any) -> str:
    """``if_running`` as a DAG author wrote it, checked (at DAG parse time)."""
    if value not in IF_RUNNING:
        raise JobsConfigError(
            f"if_running must be one of {', '.join(map(repr, IF_RUNNING))}, got {value!r}: 'start' starts a job "
            "whatever runs, 'join' watches the running job of the same target instead, 'fail' fails the task, "
            "'cancel' cancels the running job and starts a new one"
        )
    return str(value)
