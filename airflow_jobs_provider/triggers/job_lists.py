"""One list poll loop per connection and filter: what every event watcher on that list shares.

The loop yields one ``JobList`` per poll. In the triggerer this is the shared stream of all
``JobEventTrigger``s with the same ``shared_stream_key``: one request per interval, however many
watchers read it. Each watcher applies its own states and cursor to the broadcast list.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_jobs_provider.apis.base import JobsApi
from airflow_jobs_provider.apis.job import Job
from airflow_jobs_provider.exceptions import JobsConfigError, JobsUnavailableError

log = logging.getLogger(__name__)

LIST_DEFAULTS: dict[str, dict[str, Any]] = {
    "airbyte": {"orderBy": "updatedAt|DESC", "limit": 100},
    "keboola": {"sortBy": "endTime", "sortOrder": "desc", "limit": 100},
}
"""Filters added unless the watcher sets them, so each poll shows the most recently finished jobs.

Airbyte's default page is the 20 oldest jobs (``createdAt|ASC``), where a new job never shows.
Keboola's default page is the 100 newest jobs by id, where a long job that ends late may no
longer be. Tinybird has no sort option: it lists the 100 newest jobs by creation. A REST API's
order is whatever its list endpoint does.
"""


@dataclass(frozen=True)
class JobList:
    """One poll's answer: the API's name and the jobs that match the filter."""

    api: str
    jobs: tuple[Job, ...]


def refuse_unlistable(api: JobsApi[Any, Any], conn_id: str) -> None:
    """An API without a job list (Faktory tracks one jid at a time) has nothing to watch."""
    if not api.can_list:
        raise JobsConfigError(
            f"JobEventTrigger cannot watch connection {conn_id!r}: the {api.name} API has no job list to "
            "poll (Faktory answers for one jid at a time). Watch a job you started with JobSensor or "
            "TriggerJobOperator(wait_for_completion=True) instead"
        )


async def poll_job_lists(
    jobs_conn_id: str,
    filters: Mapping[str, Any],
    poll_interval: float,
    status_overrides: Mapping[str, str] | None = None,
) -> AsyncIterator[JobList]:
    """List jobs every ``poll_interval`` seconds, forever, over one HTTP session.

    An API that is still down after the hook's retries skips that poll with a warning: a
    watcher is meant to outlive outages. Wrong filters, a refused token or an unknown state
    raise instead. Retrying cannot fix them, and the error says what to change.
    """
    from airflow_jobs_provider.hooks.jobs import JobsHook

    async with JobsHook(jobs_conn_id, status_overrides=status_overrides) as hook:
        api = hook.api
        refuse_unlistable(api, jobs_conn_id)
        query = {**LIST_DEFAULTS.get(api.name, {}), **filters}
        while True:
            try:
                jobs = await hook.alist_jobs(**query)
            except JobsUnavailableError as error:
                log.warning("listing jobs on %s failed, trying again in %gs: %s", jobs_conn_id, poll_interval, error)
            else:
                yield JobList(api.name, tuple(jobs))
            await asyncio.sleep(poll_interval)
