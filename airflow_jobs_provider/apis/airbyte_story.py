"""Airbyte's story of a job: its attempts and their failure reasons, where an API exposes them.

The public API's job has only totals (``bytesSynced``, ``rowsSynced``, ``duration``), which the
summary line shows. A self-managed Airbyte also serves the Config API, whose ``POST /jobs/get``
answers the job with its attempts (state, records, bytes, ``failureSummary.failures``) and their
logs. A connection opts in with extra ``config_api_url`` (``http://HOST:8000/api/v1``); extra
``config_api_log_lines`` (0 to 200, default 0) adds that many last log lines of each failed attempt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_jobs_provider.apis.exchange import Exchange, Request
from airflow_jobs_provider.apis.job import Job
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.story import (
    StoryPage,
    Summary,
    clean_line,
    duration_text,
    extra_url,
    fresh,
    number_of,
    size_text,
    text_of,
)
from airflow_jobs_provider.exceptions import JobsConfigError

if TYPE_CHECKING:
    from airflow_jobs_provider.apis.airbyte.api import AirbyteApi

CONFIG_EXTRA = "config_api_url"
LOG_LINES_EXTRA = "config_api_log_lines"
MAX_LOG_LINES = 200
MAX_ATTEMPTS = 20
MAX_FAILURES = 5
ISO_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")
INCOMPLETE_HINT = (
    "an attempt failed and Airbyte retries it; the public API does not say why: set extra "
    f"{CONFIG_EXTRA!r} of a self-managed Airbyte's connection to read attempts and their failures"
)


def config_url(settings: ApiSettings) -> str | None:
    return extra_url(settings, CONFIG_EXTRA, "http://localhost:8000/api/v1")


def log_lines(settings: ApiSettings) -> int:
    value = settings.extras.get(LOG_LINES_EXTRA, 0)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LOG_LINES:
        raise JobsConfigError(
            f"connection {settings.conn_id!r}: extra {LOG_LINES_EXTRA!r} must be a whole number from 0 to "
            f"{MAX_LOG_LINES}, got {value!r}"
        )
    return value


def story(api: AirbyteApi, job: Job, cursor: Mapping[str, Any] | None) -> Exchange[StoryPage]:
    if api.config_url is None:
        hint = [f"[airbyte] {INCOMPLETE_HINT}"] if job.raw_status == "incomplete" else []
        return fresh(hint, cursor)
    request = Request("POST", "/jobs/get", json={"id": int(job.job_id)}, host=api.config_url)
    response = yield from api.authorized(request)
    body = api.json_object(api.checked(response, "read the attempts of", job.job_id), "read job attempts")
    attempts = body.get("attempts")
    keyed: list[tuple[str, str]] = []
    for entry in attempts[:MAX_ATTEMPTS] if isinstance(attempts, list) else []:
        attempt = entry.get("attempt") if isinstance(entry, Mapping) else None
        if isinstance(attempt, Mapping):
            keyed += _attempt_lines(attempt, entry.get("logs"), api.log_lines)
    secrets = api.secrets()
    lines = [clean_line(f"[airbyte] {line}", secrets) for _, line in keyed]
    return fresh(lines, cursor, keys=[key for key, _ in keyed])


def _attempt_lines(attempt: Mapping[str, Any], logs: Any, tail: int) -> list[tuple[str, str]]:
    """(key, line) pairs: an attempt's state line is keyed by its state, so later counts do not log it again."""
    number = number_of(attempt.get("id"))
    name = f"attempt {number + 1}" if number is not None else "attempt ?"
    status = text_of(attempt.get("status"), 40) or "?"
    line = f"{name} {status}"
    if status != "running":
        took = _span(attempt.get("createdAt"), attempt.get("endedAt"))
        records, synced = number_of(attempt.get("recordsSynced")), number_of(attempt.get("bytesSynced"))
        facts = [
            f"after {duration_text(took)}" if took is not None else "",
            f"{records:,} records" if records is not None else "",
            size_text(synced) if synced is not None else "",
        ]
        if any(facts):
            line += " " + ", ".join(fact for fact in facts if fact)
    lines = [(f"{name} {status}", line.rstrip())]
    summary = attempt.get("failureSummary")
    failures = summary.get("failures") if isinstance(summary, Mapping) else None
    for failure in failures[:MAX_FAILURES] if isinstance(failures, list) else []:
        if isinstance(failure, Mapping):
            origin = text_of(failure.get("failureOrigin"), 40) or "?"
            kind = text_of(failure.get("failureType"), 40) or "?"
            message = text_of(failure.get("externalMessage")) or text_of(failure.get("internalMessage")) or "?"
            text = f"{name} failure ({origin}, {kind}): {message}"
            lines.append((text, text))
    if status == "failed" and tail:
        log = logs.get("logLines") if isinstance(logs, Mapping) else None
        shown = [text for text in (log[-tail:] if isinstance(log, list) else []) if isinstance(text, str)]
        lines += [(f"{name} log: {text}", f"{name} log: {text}") for text in shown]
    return lines


def _span(start: Any, end: Any) -> float | None:
    """Seconds between two Config API times (epoch seconds)."""
    first, last = number_of(start), number_of(end)
    return float(last - first) if first is not None and last is not None and last >= first else None


def summary(job: Job) -> Summary:
    body = job.payload
    return Summary(
        duration=iso_seconds(body.get("duration")),
        rows=number_of(body.get("rowsSynced")),
        bytes=number_of(body.get("bytesSynced")),
    )


def iso_seconds(value: Any) -> float | None:
    """Seconds of an ISO 8601 duration as Airbyte writes it (``PT1M2.5S``); None if it is not one."""
    match = ISO_DURATION.fullmatch(value) if isinstance(value, str) and len(value) < 40 else None
    if match is None or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds
