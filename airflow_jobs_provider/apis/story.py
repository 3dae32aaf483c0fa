"""The job's own story (its events, progress, statistics, errors) and its one-line summary.

Each API may read what the job itself reports: Keboola's Storage API events, Tinybird's job
details and ops logs, Airbyte's attempts, Faktory's ``desc``, a REST log endpoint. ``story`` is an
operation like the others (it yields Requests and receives Responses, or yields nothing when the
job answer already says it all) and returns a ``StoryPage``: the new lines and a cursor, plain
JSON, that the next call takes so that each line is logged once, across polls, across
reschedules (the task keeps the cursor) and from the worker to the triggerer.

Everything here is untrusted input turned into log lines: each line is stripped of control
characters, cut to ``MAX_LINE`` characters, and cleared of the connection's secrets.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_jobs_provider.apis.job import Job
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.values import progress_value
from airflow_jobs_provider.exceptions import JobsConfigError

MAX_LINE = 1000
"""Characters a story line keeps (one Keboola event message can be a whole stack trace)."""
MAX_LINES = 200
"""Lines one ``story`` call returns at most; the rest is left for the job's own page."""
MAX_SEEN = 100
"""Digests of lines already logged that a cursor keeps (lines derived from the job's state)."""
MIN_SECRET = 4
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+")
SECRET_KEY = re.compile(r"(token|password|secret|authorization|credential|api[_-]?key|^#)", re.IGNORECASE)
STORY_EXTRA = "job_story"
STORY_INTERVAL_EXTRA = "story_interval"


@dataclass(frozen=True)
class StoryPage:
    """What one ``story`` call found: lines not logged before, and the cursor for the next call."""

    lines: tuple[str, ...] = ()
    cursor: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Summary:
    """What the API says about a finished job, for the summary line (None: the API does not say)."""

    duration: float | None = None
    queued: float | None = None
    rows: int | None = None
    bytes: int | None = None
    details: tuple[str, ...] = ()


def story_enabled(settings: ApiSettings) -> bool:
    """Extra ``job_story`` (default true): false stops every story read of the connection."""
    value = settings.extras.get(STORY_EXTRA, True)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise JobsConfigError(
            f"connection {settings.conn_id!r}: extra {STORY_EXTRA!r} must be true or false, got {value!r}"
        )
    return value


def story_interval_extra(settings: ApiSettings) -> float | None:
    """Extra ``story_interval``: seconds between story reads of a running job (tasks/story_pace.py), or None."""
    value = settings.extras.get(STORY_INTERVAL_EXTRA)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not a number: the check below names it
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 10**7:
        raise JobsConfigError(
            f"connection {settings.conn_id!r}: extra {STORY_INTERVAL_EXTRA!r} must be a number of seconds "
            f"(0 reads the story at every poll), got {value!r}"
        )
    return float(value)


def extra_url(settings: ApiSettings, name: str, example: str) -> str | None:
    """A base URL from extra ``name`` (checked: http(s), no credentials, no query), or None if unset.

    The token travels to it, so it only ever comes from the connection, never from an answer.
    """
    given = settings.extras.get(name)
    if given is None or given == "":
        return None
    try:
        parts = urlsplit(given) if isinstance(given, str) else None
        _ = parts.port if parts is not None else None  # a bad port raises here
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or (parts.username or parts.password or parts.query or parts.fragment)
    ):
        raise JobsConfigError(
            f"connection {settings.conn_id!r}: extra {name!r} must be a base URL such as {example} "
            f"(no credentials, no query); got {given!r}"
        )
    return str(given).rstrip("/")


def clean_line(text: Any, secrets: Iterable[str | None] = ()) -> str:
    """One log line from untrusted text: no control characters, no secrets, at most MAX_LINE characters."""
    line = " ".join(CONTROL.sub(" ", str(text)).split())
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET:
            line = line.replace(secret, "***")
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


def object_of(value: Any) -> Mapping[str, Any]:
    """A JSON object field, or an empty one when it is anything else (Keboola sends ``[]`` for ``{}``)."""
    return value if isinstance(value, Mapping) else {}


def text_of(value: Any, limit: int = MAX_LINE) -> str | None:
    """A string field of an answer, or None when it is absent, empty or not a string."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:limit]


def number_of(value: Any) -> int | None:
    """A whole, non-negative count from an answer (rows, bytes), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and 0 <= value < 2**63 else None


def seconds_of(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 10**9:
        return None
    return float(value)


def progress_text(value: Any) -> str | None:
    number = progress_value(value)
    return None if number is None else f"{number:g}%"


def fresh(
    lines: Sequence[str], cursor: Mapping[str, Any] | None, keys: Sequence[str] | None = None, **state: Any
) -> StoryPage:
    """The lines of ``lines`` not logged before, with the cursor that remembers them too.

    A line is known by the digest of its text, or of its key in ``keys`` (parallel to ``lines``):
    "attempt 1 failed" is logged once even if the counts it shows change afterwards.
    """
    seen = [item for item in (cursor or {}).get("seen", []) if isinstance(item, str)]
    known = set(seen)
    new = []
    for index, line in enumerate(lines):
        digest = hashlib.sha256((keys[index] if keys is not None else line).encode()).hexdigest()[:16]
        if digest not in known:
            known.add(digest)
            seen.append(digest)
            new.append(line)
    return StoryPage(tuple(new[:MAX_LINES]), {**dict(cursor or {}), **state, "seen": seen[-MAX_SEEN:]})


def bounded(value: Any, *, depth: int = 5, items: int = 25, text: int = 500) -> Any:
    """A JSON value cut to a size fit for XCom: lists and objects shortened, long strings cut,
    and keys that name a secret (token, password, Keboola's ``#encrypted`` values) dropped."""
    if isinstance(value, str):
        return value if len(value) <= text else value[:text] + "…"
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth <= 0:
        return None
    if isinstance(value, Mapping):
        kept = [(str(key), item) for key, item in value.items() if not SECRET_KEY.search(str(key))]
        return {key: bounded(item, depth=depth - 1, items=items, text=text) for key, item in kept[:items]}
    if isinstance(value, (list, tuple)):
        return [bounded(item, depth=depth - 1, items=items, text=text) for item in value[:items]]
    return None


def summary_line(job: Job, summary: Summary, url: str | None) -> str:
    """'job 42 SUCCEEDED in 1m05s (queued 3s); 1,200 rows, 600.0 KB; 2 quarantined rows: https://…'."""
    parts = [f"job {job.job_id} {job.status.value}"]
    if job.raw_status.upper() != job.status.value:
        parts[0] += f" (raw: {job.raw_status})"
    if summary.duration is not None:
        parts[0] += f" in {duration_text(summary.duration)}"
    if summary.queued is not None:
        parts[0] += f" (queued {duration_text(summary.queued)})"
    volume = []
    if summary.rows is not None:
        volume.append(f"{summary.rows:,} rows")
    if summary.bytes is not None:
        volume.append(size_text(summary.bytes))
    tail = "; ".join(part for part in (", ".join(volume), *summary.details) if part)
    line = parts[0] + (f"; {tail}" if tail else "")
    return f"Summary: {line}" + (f": {url}" if url else "")


def duration_text(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.1f}s" if seconds < 10 and seconds != whole else f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s"


def size_text(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{count} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"  # pragma: no cover
