"""Which job is "the next job of something that finished after T": JobFinishedSensor and its trigger.

Shared by the sensor's poke (sync, in a worker) and ``JobFinishedTrigger`` (async, in the
triggerer) so that every mode picks the same job. The list call itself is in ``look`` and
``alook``, and nowhere else.

The job picked is the matching job, in one of ``states``, that finished first at or after
``finished_after``: the next one to end after that time. However late the sensor looks, the
answer is the same: a job still running at a poll ends after every job already finished.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_jobs_provider.apis.job import TERMINAL_STATUSES, Job, JobStatus
from airflow_jobs_provider.exceptions import JobsConfigError

if TYPE_CHECKING:
    from airflow_jobs_provider.apis.base import JobsApi
    from airflow_jobs_provider.hooks.jobs import JobsHook

ALL_ENDINGS = tuple(sorted(status.value for status in TERMINAL_STATUSES))
EXAMPLE = "'{{ data_interval_end }}' or '2026-01-01T00:00:00+00:00'"
WINDOW_OVERLAP = 5.0
"""Seconds the list window reaches back before ``finished_after``: jobs the API shows a little late."""


def parse_finished_after(value: Any) -> float:
    """``finished_after`` as epoch seconds: an ISO 8601 time (naive = UTC) or a datetime, checked.

    It is often templated from ``dag_run.conf``, so anything else is refused with what to give instead.
    """
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if not isinstance(value, str) or not value.strip():
        raise JobsConfigError(
            f"finished_after must be a time in ISO 8601, e.g. {EXAMPLE}, got {value!r}"
        )
    text = value.strip()
    if text in ("None", "null"):
        raise JobsConfigError(
            f"finished_after rendered to {text!r}: the template names nothing this run has (a run triggered by hand "
            "on Airflow 3 has no data interval, and dag_run.conf may lack the key). Give the time in ISO 8601, "
            f"e.g. {EXAMPLE}"
        )
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise JobsConfigError(
            f"finished_after {text[:100]!r} is not a time in ISO 8601; give one like {EXAMPLE}"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat()


def ending_states(states: Sequence[str] | str) -> tuple[str, ...]:
    """The terminal states that count as "finished", sorted (plain JSON for the trigger)."""
    from airflow_jobs_provider.triggers.events import terminal_states

    return tuple(sorted(status.value for status in terminal_states(states)))


@dataclass(frozen=True)
class FinishedJobQuery:
    """What to look for: the API's list filters, payload matches, the time and the ending states."""

    filters: Mapping[str, Any]
    match: Mapping[str, Any]
    finished_after: float
    states: tuple[str, ...] = ALL_ENDINGS
    untimed: set[str] = field(default_factory=set, compare=False, repr=False)
    """Ids of matching finished jobs whose answer carries no time at all (warned about once)."""

    @classmethod
    def checked(
        cls, filters: Any, match: Any, finished_after: Any, states: Sequence[str] | str = ALL_ENDINGS
    ) -> FinishedJobQuery:
        """Build it from the task's rendered (untrusted) values; each mistake is a JobsConfigError."""
        from airflow_jobs_provider.triggers.events import plain_json

        since = finished_after if isinstance(finished_after, float) else parse_finished_after(finished_after)
        return cls(plain_json(filters, "filters"), plain_json(match, "match"), since, ending_states(states))

    def list_filters(self, api: JobsApi[Any, Any], conn_id: str) -> dict[str, Any]:
        """The list filters of the window read; the API's window read sorts and pages (apis/paging.py)."""
        if not api.can_list:
            raise JobsConfigError(
                f"JobFinishedSensor cannot look for jobs on connection {conn_id!r}: the {api.name} API has no job "
                "list (Faktory answers for one jid at a time). Watch a job you know with JobSensor(job_id=...), e.g. "
                "the job_id XCom of the TriggerJobOperator that started it"
            )
        return dict(self.filters)

    @property
    def window_since(self) -> float:
        """Where the window read starts: a little before ``finished_after``, for jobs an API shows late."""
        return self.finished_after - WINDOW_OVERLAP

    def pick(self, jobs: Iterable[Job]) -> Job | None:
        """The matching job that finished first at or after ``finished_after``, if one has."""
        from airflow_jobs_provider.triggers.cursor import finished_at
        from airflow_jobs_provider.triggers.events import matches

        wanted = {JobStatus(state) for state in self.states}
        found: list[tuple[float, str, Job]] = []
        for job in jobs:
            if job.status not in wanted or not matches(self.match, job):
                continue
            moment = finished_at(job)
            if moment is None:
                self.untimed.add(job.job_id)
            elif moment >= self.finished_after:
                found.append((moment, job.job_id, job))
        return min(found, key=lambda entry: entry[:2])[2] if found else None

    def describe(self) -> str:
        what = ", ".join(f"{key}={value!r}" for key, value in {**self.filters, **self.match}.items()) or "any job"
        return f"a job ({what}) ending {'/'.join(self.states)} at or after {iso(self.finished_after)}"


def look(hook: JobsHook, query: FinishedJobQuery) -> Job | None:
    """One sync look (a worker's poke)."""
    filters = query.list_filters(hook.api, hook.jobs_conn_id)
    return query.pick(hook.list_window(filters, since=query.window_since).jobs)


async def alook(hook: JobsHook, query: FinishedJobQuery) -> Job | None:
    """One async look (the triggerer), over the hook's open session."""
    filters = query.list_filters(hook.api, hook.jobs_conn_id)
    return query.pick((await hook.alist_window(filters, since=query.window_since)).jobs)
