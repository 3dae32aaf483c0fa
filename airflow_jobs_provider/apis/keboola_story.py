"""Keboola's story of a job: the Storage API events of its run, and what its summary line says.

The Queue API does not serve a job's events; the Storage API of the same stack does
(``GET /v2/storage/events?runId=…``, newest first, ``sinceId`` for the ones after a known event),
with the same Storage API token. A stack's Queue host ``https://queue.<stack>`` implies its
Storage host ``https://connection.<stack>`` (``keboola.stack_storage_url``, the rule the job's UI
page uses too); extra ``storage_url`` names it when the connection's host is not a ``queue.`` host
(a proxy), else the connection's own host serves it (the emulator). ``KeboolaApi.storage_url``
holds the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_jobs_provider.apis.exchange import Exchange, Request, Response
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.story import (
    MAX_LINES,
    StoryPage,
    Summary,
    clean_line,
    number_of,
    object_of,
    seconds_of,
    size_text,
    text_of,
)
from airflow_jobs_provider.exceptions import JobsApiError

if TYPE_CHECKING:
    from airflow_jobs_provider.apis.keboola import KeboolaApi

EVENTS_PATH = "/v2/storage/events"
PAGE = 100
MAX_PAGES = 2
STORAGE_EXTRA = "storage_url"
EVENT_TYPES = {"error": "ERROR", "warn": "WARNING", "warning": "WARNING", "success": "SUCCESS", "info": "INFO"}


def story(api: KeboolaApi, job: Job, cursor: Mapping[str, Any] | None) -> Exchange[StoryPage]:
    """The run's events after the last one logged, oldest first; on failure the errors come first."""
    state = dict(cursor or {})
    since = state.get("since") if isinstance(state.get("since"), int) else None
    run_id = job.payload.get("runId")
    if not isinstance(run_id, str) or not run_id:
        return StoryPage((), state)
    events: dict[int, Mapping[str, Any]] = {}
    below: int | None = None
    for _ in range(MAX_PAGES):
        params = {"runId": run_id, "limit": str(PAGE)}
        if since is not None:
            params["sinceId"] = str(since)
        if below is not None:
            params["maxId"] = str(below)
        response = yield Request("GET", EVENTS_PATH, params=params, headers=api.headers(), host=api.storage_url)
        page = _events(api, api.checked(response, f"read the events of run {run_id} for"))
        events.update((event_id, event) for event_id, event in page if since is None or event_id > since)
        if len(page) < PAGE or not page:
            break
        below = min(event_id for event_id, _ in page) - 1
        if since is not None and below <= since:
            break
    ordered = sorted(events.items())
    if job.status is JobStatus.FAILED:  # the reason first, then the rest in order
        ordered.sort(key=lambda item: _kind(item[1]) != "ERROR")
    lines = [_line(event, api.secrets()) for _, event in ordered][:MAX_LINES]
    if ordered:
        state["since"] = max(event_id for event_id, _ in ordered)
    return StoryPage(tuple(lines), state)


def _events(api: KeboolaApi, response: Response) -> list[tuple[int, Mapping[str, Any]]]:
    body = response.body
    if not isinstance(body, list):
        raise JobsApiError(
            f"keboola's event list at {api.storage_url}{EVENTS_PATH} is not a JSON array ({str(body)[:120]}): "
            f"set extra {STORAGE_EXTRA!r} of connection {api.settings.conn_id!r} to the stack's Storage API URL"
        )
    found = []
    for event in body:
        if not isinstance(event, Mapping):
            continue
        event_id = number_of(event.get("id"))
        if event_id is not None:
            found.append((event_id, event))
    return found


def _kind(event: Mapping[str, Any]) -> str:
    raw = event.get("type")
    return EVENT_TYPES.get(raw, "INFO") if isinstance(raw, str) else "INFO"


def _line(event: Mapping[str, Any], secrets: tuple[str | None, ...]) -> str:
    created = text_of(event.get("created"), 40) or "?"
    component = text_of(event.get("component"), 120)
    message = text_of(event.get("message")) or "(no message)"
    description = text_of(event.get("description"))
    text = f"[keboola event {created}] {_kind(event)}" + (f" {component}" if component else "") + f": {message}"
    if description and description != message:
        text += f" ({description})"
    return clean_line(text, secrets)


def summary(job: Job) -> Summary:
    """Duration, queue time (created → started) and the bytes the job read and wrote (``metrics``)."""
    payload = job.payload
    queued = _between(payload.get("createdTime"), payload.get("startTime"))
    storage = object_of(object_of(payload.get("metrics")).get("storage"))
    read = number_of(storage.get("inputTablesBytesSum"))
    written = number_of(storage.get("outputTablesBytesSum"))
    details = []
    result = object_of(payload.get("result"))
    for side in ("input", "output"):
        tables = object_of(result.get(side)).get("tables")
        if isinstance(tables, list) and tables:
            details.append(f"{len(tables)} {side} table(s)")
    if read is not None and written is not None:
        details.insert(0, f"read {size_text(read)}, wrote {size_text(written)}")
    return Summary(duration=seconds_of(payload.get("durationSeconds")), queued=queued, details=tuple(details))


def _between(start: Any, end: Any) -> float | None:
    try:
        first, last = datetime.fromisoformat(str(start)), datetime.fromisoformat(str(end))
        seconds = (last - first).total_seconds()
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None
