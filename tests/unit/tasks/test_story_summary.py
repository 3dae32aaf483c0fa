"""A summary line that cannot be made is a warning: the job's outcome is already known."""

from __future__ import annotations

import logging

from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.tasks.story import JobStory


class HookWithoutConnection:
    """What a worker's hook does when its connection cannot be read (it is gone, or the lookup failed)."""

    @property
    def api(self) -> object:
        raise LookupError("The conn_id `jobs_default` isn't defined")

    def job_links(self, job: Job) -> object:
        raise LookupError("The conn_id `jobs_default` isn't defined")

    async def ajob_links(self, job: Job) -> object:
        raise LookupError("The conn_id `jobs_default` isn't defined")


JOB = Job("j1", JobStatus.SUCCEEDED, "done")


def test_a_summary_that_cannot_be_made_is_a_warning(caplog):
    with caplog.at_level(logging.INFO):
        JobStory(logging.getLogger("story")).summarize(HookWithoutConnection(), JOB)  # type: ignore[arg-type]
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert "No summary line for job j1: LookupError" in caplog.text


async def test_the_same_in_the_triggerer(caplog):
    with caplog.at_level(logging.INFO):
        await JobStory(logging.getLogger("story")).asummarize(HookWithoutConnection(), JOB)  # type: ignore[arg-type]
    assert "No summary line for job j1: LookupError" in caplog.text
