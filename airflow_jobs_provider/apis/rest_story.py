"""A declarative REST API's story: the entries of an optional log endpoint, each logged once.

Extras (all optional; without ``log_endpoint`` there is no story)::

    "log_endpoint": "GET /acme/v2/runs/{job_id}/log",   # the job's log entries, oldest first
    "log_root": "entries",              # dotted path to the array (default: the answer itself)
    "log_message_field": "message",     # dotted path in an entry (default: the entry, if a string)
    "log_level_field": "level",         # optional, shown before the message
    "log_time_field": "at"              # optional, shown first

The endpoint is read after each poll; entries past the ones already logged are new (the log is
taken to grow at its end). A log that got shorter was replaced: it is read from its start again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_jobs_provider.apis.exchange import Exchange
from airflow_jobs_provider.apis.job import Job
from airflow_jobs_provider.apis.story import MAX_LINES, StoryPage, clean_line
from airflow_jobs_provider.apis.values import dig
from airflow_jobs_provider.exceptions import JobsApiError, JobsConfigError

if TYPE_CHECKING:
    from airflow_jobs_provider.apis.rest import RestApi

LOG_FIELDS = ("log_root", "log_message_field", "log_level_field", "log_time_field")


@dataclass(frozen=True)
class LogFields:
    root: str = ""
    message: str = ""
    level: str = ""
    time: str = ""

    @classmethod
    def parse(cls, extras: Mapping[str, Any], conn_id: str) -> LogFields:
        for key in LOG_FIELDS:
            if key in extras and not isinstance(extras[key], str):
                raise JobsConfigError(f"connection {conn_id!r}: extra {key!r} must be a dotted path string")
        if any(extras.get(key) for key in LOG_FIELDS) and not extras.get("log_endpoint"):
            raise JobsConfigError(
                f"connection {conn_id!r}: extras {', '.join(LOG_FIELDS)} describe the answers of 'log_endpoint', "
                "which is not set: add it, e.g. 'GET /v1/jobs/{job_id}/logs'"
            )
        return cls(*(str(extras.get(key) or "") for key in LOG_FIELDS))


def story(api: RestApi, job: Job, cursor: Mapping[str, Any] | None) -> Exchange[StoryPage]:
    state = dict(cursor or {})
    if "log" not in api.endpoints:
        return StoryPage((), state)
    response = yield api.request("log", job.job_id)
    body = api.checked(response, "read the log of", job.job_id).body
    fields = api.log_fields
    entries = dig(body, fields.root) if fields.root else body
    if not isinstance(entries, list):
        raise JobsApiError(
            f"rest log answer has no array at {fields.root or '(top level)'}: set extra 'log_root' of connection "
            f"{api.settings.conn_id!r} to the dotted path of the log entries"
        )
    seen = state.get("seen_entries")
    if not isinstance(seen, int) or seen > len(entries):
        seen = 0  # a new log: read it again from its start
    new = entries[seen:][:MAX_LINES]
    state["seen_entries"] = seen + len(new)
    return StoryPage(tuple(_line(entry, fields, api.secrets()) for entry in new), state)


def _line(entry: Any, fields: LogFields, secrets: tuple[str | None, ...]) -> str:
    message = dig(entry, fields.message) if fields.message else entry
    parts = [dig(entry, field) for field in (fields.time, fields.level) if field]
    prefix = " ".join(str(part) for part in parts if part not in (None, ""))
    text = message if isinstance(message, str) else str(message)
    return clean_line(f"[job log] {prefix + ': ' if prefix else ''}{text}", secrets)
