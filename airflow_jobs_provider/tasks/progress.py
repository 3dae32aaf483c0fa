"""Log each change of a job's state or progress once, not on every poll."""

from __future__ import annotations

from airflow_jobs_provider.apis.job import Job


class ProgressLog:
    def __init__(self) -> None:
        self._last: tuple[str, str, float | None] | None = None

    def line(self, job: Job) -> str | None:
        """'job 1f6a…: RUNNING 45%' when something changed since the last call, else None."""
        key = (job.status.value, job.raw_status, job.progress)
        if key == self._last:
            return None
        self._last = key
        return f"job {job.job_id}: {job.describe()}"
