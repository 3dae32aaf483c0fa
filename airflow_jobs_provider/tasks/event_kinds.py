"""The kinds of event JobStatusTrigger fires, apart from the trigger so DAG files need not import it.

The operator and the sensor validate events against these at DAG-parse cost zero: importing the
trigger module would pull in the triggerer's machinery (Airflow's trigger base, the HTTP stack).
"""

from __future__ import annotations

from airflow_jobs_provider.apis.job import JobStatus

EVENT_FOR_STATUS = {
    JobStatus.SUCCEEDED: "success",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "cancelled",
}
START_ON_WORKER = "start_on_worker"
"""Fired by a trigger the scheduler started (``start_from_trigger``) that finds at run time that a
worker must run the task after all (OpenLineage events, a custom XCom backend): today's path runs."""
EVENT_KINDS = frozenset({*EVENT_FOR_STATUS.values(), "timeout", "error", START_ON_WORKER})
