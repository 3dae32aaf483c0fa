"""JobEventTrigger: an asset watcher that fires once for each job that finishes in the external system.

Use it in ``Asset(..., watchers=[AssetWatcher(name, JobEventTrigger(...))])``. Every DAG
scheduled on that asset then runs when a matching job finishes. The event's payload is the
asset event's ``extra["payload"]``, and it carries the job as ``Job.to_dict()``.

How each job is reported once:

- The first poll is a baseline. Jobs that have already finished are marked as handled without
  firing, unless ``lookback_seconds`` asks for the ones that finished within that window.
- From then on, a job fires the first time a poll shows it finished in one of ``states``. The
  cursor (``cursor.JobCursor``) remembers it, so the next polls skip it.
- The cursor is kept in the asset state store, which Airflow 3.3+ injects. A new trigger
  instance, after a triggerer restart, continues where the last one stopped. Jobs that
  finished while no triggerer ran are reported then, and none is reported twice.
- A report is written to the store only ``commit_delay`` seconds after the triggerer took its
  event. By then the triggerer has handed the event to its supervisor, which stores it. If the
  triggerer dies before that, the event may be lost, and the job is reported again by the next
  instance (a duplicate, never a gap).

Watchers with the same connection, list filter, poll interval and state overrides share one
list request per interval through the triggerer's shared streams (Airflow 3.3+). They may
differ in ``match``, ``states`` and ``lookback_seconds``, which each applies on its own. On older
Airflow each watcher polls on its own, through ``run``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator, Hashable, Mapping, Sequence
from typing import Any

from airflow_jobs_provider.apis.base import dig
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.settings import DEFAULT_CONN_ID
from airflow_jobs_provider.exceptions import JobsConfigError
from airflow_jobs_provider.tasks.options import optional_seconds, seconds
from airflow_jobs_provider.tasks.options import status_overrides as checked_overrides
from airflow_jobs_provider.triggers.cursor import JobCursor
from airflow_jobs_provider.triggers.cursor_store import CursorStore
from airflow_jobs_provider.triggers.job_lists import JobList, poll_job_lists

try:
    from airflow.triggers.base import BaseEventTrigger, TriggerEvent
except ImportError:  # Airflow 2.11 has no event-driven scheduling; the class still imports
    from airflow.triggers.base import BaseTrigger as BaseEventTrigger  # type: ignore[assignment]
    from airflow.triggers.base import TriggerEvent

CLASSPATH = "airflow_jobs_provider.triggers.jobs.JobEventTrigger"
"""The public path, whichever module defines the class: the triggerer imports it from here."""
STREAM = "airflow_jobs_provider.JobEventTrigger"
DEFAULT_STATES = ("SUCCEEDED",)
DEFAULT_POLL_INTERVAL = 30.0


class JobEventTrigger(BaseEventTrigger):
    """
    Fire one event per job that finishes in one of ``states``: event-driven DAGs on external jobs.

    Kwargs are plain JSON with no token in them. The connection is resolved in the triggerer.

    :param jobs_conn_id: the ``jobs`` connection (any API with a job list; Faktory has none).
    :param filters: the API's own list filters, as ``JobsHook.list_jobs`` takes them. Tinybird:
        ``kind``, ``pipe_name``, ``status``…; Keboola: ``componentId``, ``configId``, ``status``…;
        Airbyte: ``connectionId``, ``jobType``, ``status``…; REST: the query parameters of the
        connection's ``list`` endpoint.
    :param match: payload fields (dotted paths) and the value, or list of values, each must have.
        The watcher checks them itself, on the list it reads. So watchers that differ only in
        ``match`` (one per pipe, say) share one list request: ``filters={"kind": "copy"}``,
        ``match={"pipe_name": "X"}``.
    :param states: canonical terminal states that fire (``SUCCEEDED``, ``FAILED``, ``CANCELLED``).
    :param poll_interval: seconds between list polls.
    :param lookback_seconds: on the watcher's very first start, also report jobs that finished
        this many seconds before it. By default, jobs that had already finished are never reported.
    :param status_overrides: raw state → canonical state, as for the operator and sensor.
    """

    commit_delay = 2.0
    """Seconds between the triggerer taking an event and the report being written to the store.

    The triggerer passes the events it has taken to its supervisor about once a second.
    """

    def __init__(
        self,
        *,
        jobs_conn_id: str = DEFAULT_CONN_ID,
        filters: Mapping[str, Any] | None = None,
        match: Mapping[str, Any] | None = None,
        states: Sequence[str] | str = DEFAULT_STATES,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        lookback_seconds: float | None = None,
        status_overrides: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(jobs_conn_id, str) or not jobs_conn_id:
            raise JobsConfigError(f"jobs_conn_id must name a connection, got {jobs_conn_id!r}")
        self.jobs_conn_id = jobs_conn_id
        self.filters = _plain_json(filters, "filters")
        self.match = _plain_json(match, "match")
        self.states = _terminal_states(states)
        self.poll_interval = seconds(poll_interval, "poll_interval")
        self.lookback_seconds = optional_seconds(lookback_seconds, "lookback_seconds")
        self.status_overrides = checked_overrides(status_overrides)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            CLASSPATH,
            {
                "jobs_conn_id": self.jobs_conn_id,
                "filters": self.filters,
                "match": self.match,
                "states": sorted(status.value for status in self.states),  # stable: the trigger's hash
                "poll_interval": self.poll_interval,
                "lookback_seconds": self.lookback_seconds,
                "status_overrides": self.status_overrides,
            },
        )

    # -- shared streams (Airflow 3.3+): one list poll per connection, filter and interval
    def shared_stream_key(self) -> Hashable | None:
        """Watchers that would send the very same list request at the same cadence share it."""
        filters, overrides = _canonical(self.filters), _canonical(self.status_overrides)
        return (STREAM, self.jobs_conn_id, filters, self.poll_interval, overrides)

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        """The one poll loop of a group; it reads only kwargs that are part of the key."""
        async for job_list in poll_job_lists(
            kwargs["jobs_conn_id"], kwargs["filters"], kwargs["poll_interval"], kwargs["status_overrides"]
        ):
            yield job_list

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        """This watcher's own events: its states and its cursor, applied to each broadcast list."""
        store = CursorStore(getattr(self, "asset_state_store", None), self.cursor_key(), self.log)
        cursor = await store.load() or JobCursor.start(time.time(), self.lookback_seconds)
        handed: dict[str, float] = {}  # reported job id -> when the triggerer took its event (monotonic)
        async for job_list in shared_stream:
            fresh = cursor.select([job for job in job_list.jobs if self.matches(job)], self.states)
            now = time.monotonic()
            handed = {job_id: at for job_id, at in handed.items() if now - at < self.commit_delay}
            await store.save(cursor.to_json(exclude=[*handed, *(job.job_id for job in fresh)]))
            for job in fresh:
                self.log.info("job %s finished: %s", job.job_id, job.describe())
                yield TriggerEvent(self.event_payload(job_list, job))
                handed[job.job_id] = time.monotonic()  # resumed: the triggerer has queued the event

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Standalone: the same filter over a poll loop of this watcher's own (before Airflow 3.3)."""
        async for event in self.filter_shared_stream(type(self).open_shared_stream(self.serialize()[1])):
            yield event

    # -- helpers
    def cursor_key(self) -> str:
        """The state store key: what decides which jobs fire, not the cadence or the look-back."""
        identity = _canonical(
            {
                "conn": self.jobs_conn_id,
                "filters": self.filters,
                "match": self.match,
                "states": sorted(status.value for status in self.states),
                "overrides": self.status_overrides,
            }
        )
        return f"job_event_cursor.{hashlib.sha256(identity.encode()).hexdigest()[:20]}"

    def matches(self, job: Job) -> bool:
        for path, wanted in self.match.items():
            value = dig(job.payload, path)
            choices = wanted if isinstance(wanted, list) else [wanted]
            if value is None or isinstance(value, (dict, list)) or str(value) not in {str(c) for c in choices}:
                return False
        return True

    def event_payload(self, job_list: JobList, job: Job) -> dict[str, Any]:
        return {
            "job_id": job.job_id,
            "status": job.status.value,
            "api": job_list.api,
            "jobs_conn_id": self.jobs_conn_id,
            "job": job.to_dict(),
        }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _plain_json(value: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
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


def _terminal_states(states: Sequence[str] | str) -> frozenset[JobStatus]:
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
