"""What TriggerJobOperator and JobSensor tell OpenLineage: the job's datasets and a run facet.

The OpenLineage provider (the optional extra ``[openlineage]``) calls the tasks'
``get_openlineage_facets_on_start`` / ``_on_complete``, which import this module then and only
then: a DAG file never pays for it. The datasets come from the API adapters (``job_lineage``,
plain data in apis/lineage.py); the ``jobsApiJob`` run facet carries the job's id, API, state,
links and statistics, all of it secret-free (URLs passed the checks of apis/links.py,
statistics are numbers).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from attrs import define, field
from openlineage.client.event_v2 import Dataset as OLDataset
from openlineage.client.facet_v2 import RunFacet

from airflow_jobs_provider.apis.job import Job
from airflow_jobs_provider.apis.lineage import JobLineage
from airflow_jobs_provider.apis.links import JobLinks
from airflow_jobs_provider.exceptions import JobsError

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_jobs_provider.hooks.jobs import JobsHook

FACET_KEY = "jobsApiJob"
FACET_SCHEMA_URL = "urn:airflow-jobs-provider:facets:1-0-0:JobsApiJobRunFacet#/$defs/JobsApiJobRunFacet"
"""Names the schema shipped beside this module (JobsApiJobRunFacet.json); it has no web home yet."""
log = logging.getLogger(__name__)


@define(kw_only=True)
class JobsApiJobRunFacet(RunFacet):
    """The remote job behind the task: which API, which job, how it ended, where to see it."""

    api: str
    jobId: str  # OpenLineage facets name fields in camelCase
    status: str
    rawStatus: str
    jobUrl: str | None = None
    jobApiUrl: str | None = None
    statistics: dict[str, Any] = field(factory=dict)
    lineageSource: str | None = None

    @staticmethod
    def _get_schema() -> str:
        return FACET_SCHEMA_URL


def lineage_for(hook: JobsHook, job: Job, spec: Mapping[str, Any] | None) -> OperatorLineage:
    """The OperatorLineage of ``job``; an API that cannot tell gives the run facet alone."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_jobs_provider.tasks.links import read_links

    try:
        found = hook.job_lineage(job, spec)
    except JobsError as error:
        log.warning("No OpenLineage datasets for job %s: %s", job.job_id, error)
        found = JobLineage()
    links = read_links(hook, job, log)
    return OperatorLineage(
        inputs=[OLDataset(namespace=item.namespace, name=item.name) for item in found.inputs],
        outputs=[OLDataset(namespace=item.namespace, name=item.name) for item in found.outputs],
        run_facets={FACET_KEY: run_facet(hook.settings.api, job, links, found)},
    )


def run_facet(api: str, job: Job, links: JobLinks, found: JobLineage) -> JobsApiJobRunFacet:
    statistics = {
        key: value
        for key, value in found.statistics.items()
        if isinstance(value, (int, float, str)) and not isinstance(value, bool)
    }
    return JobsApiJobRunFacet(
        api=api,
        jobId=job.job_id,
        status=job.status.value,
        rawStatus=job.raw_status,
        jobUrl=links.page,
        jobApiUrl=links.api,
        statistics=statistics,
        lineageSource=found.source or None,
    )


def on_start(hook: JobsHook, spec: Mapping[str, Any]) -> OperatorLineage:
    """Before the job exists: the datasets the start spec names (Tinybird's pipe, file and data source)."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_jobs_provider.apis.tinybird import tinybird_lineage

    if hook.settings.api != "tinybird":
        return OperatorLineage()
    found = tinybird_lineage(hook.settings.base_url, {}, spec)
    return OperatorLineage(
        inputs=[OLDataset(namespace=item.namespace, name=item.name) for item in found.inputs],
        outputs=[OLDataset(namespace=item.namespace, name=item.name) for item in found.outputs],
    )


def final_job(hook: JobsHook, known: Job | None, job_id: str | None) -> Job | None:
    """The job as it ended: ``known`` when it is terminal, else read once more."""
    if known is not None and known.status.is_terminal:
        return known
    the_id = known.job_id if known is not None else job_id
    if not the_id:
        return None
    try:
        return hook.get_job(str(the_id))
    except JobsError as error:
        log.warning("Cannot read job %s for OpenLineage: %s", the_id, error)
        return known
