"""The XComs a task pushes for a job: ``job_id``, ``job_url`` (the "Job" button) and ``job_api_url``.

``job_url`` is the job's page in the vendor's web UI, or "" when none can be derived honestly
(no button rather than a broken one); ``job_api_url`` is the job's API resource. A URL the API
answered with that fails the checks of apis/links.py gives no link and a warning, and a record
that cannot be read for the page (Airbyte's connection) costs the button, never the task.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from airflow_jobs_provider.apis.job import Job
from airflow_jobs_provider.apis.links import JobLinks, UnsafeUrlError, checked_or_none, host_of
from airflow_jobs_provider.exceptions import JobsError

if TYPE_CHECKING:
    from airflow_jobs_provider.hooks.jobs import JobsHook

JOB_ID_KEY = "job_id"
JOB_URL_KEY = "job_url"
JOB_API_URL_KEY = "job_api_url"


def read_links(hook: JobsHook, job: Job, log: logging.Logger | Any) -> JobLinks:
    """The job's links; what went wrong on the way is logged as a warning, never raised."""
    try:
        return _logged(hook.job_links(job), job, log)
    except (JobsError, UnsafeUrlError) as error:
        return _api_link_only(hook, job, log, error)


async def aread_links(hook: JobsHook, job: Job, log: logging.Logger | Any) -> JobLinks:
    """The same in the triggerer."""
    try:
        return _logged(await hook.ajob_links(job), job, log)
    except (JobsError, UnsafeUrlError) as error:
        return _api_link_only(hook, job, log, error)


def _logged(links: JobLinks, job: Job, log: logging.Logger | Any) -> JobLinks:
    for problem in links.problems:
        log.warning("Job %s: refused a URL from the API answer, so no link: %s", job.job_id, problem)
    return links


def _api_link_only(hook: JobsHook, job: Job, log: logging.Logger | Any, error: Exception) -> JobLinks:
    """No page when the links cannot be read; the job's own URL still, if it is on the API's host."""
    log.warning("No link to job %s's page: %s", job.job_id, error)
    return JobLinks(api=checked_or_none(job.url, "the job's URL", {host_of(hook.settings.base_url)}, []))


def push_job_xcoms(ti: Any, hook: JobsHook, job: Job, log: logging.Logger | Any) -> JobLinks:
    """Push ``job_id`` first (it must be there whatever happens next), then both URLs."""
    ti.xcom_push(key=JOB_ID_KEY, value=job.job_id)
    links = read_links(hook, job, log)
    ti.xcom_push(key=JOB_URL_KEY, value=links.page or "")
    ti.xcom_push(key=JOB_API_URL_KEY, value=links.api or "")
    return links
