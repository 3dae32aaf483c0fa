"""Checks and readers for values that come from outside: ids that fill a URL, answers' fields and texts."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from airflow_jobs_provider.exceptions import InvalidJobIdError, JobsConfigError

MAX_JOB_ID_LENGTH = 512
MAX_ERROR_TEXT = 500


def quote_job_id(job_id: object) -> str:
    """Check a job id and encode it as one path segment; it can never reach another endpoint."""
    return quote_segment(job_id, "job id", InvalidJobIdError)


def quote_segment(value: object, what: str, error: type[Exception] = JobsConfigError) -> str:
    """Check a value that fills one path segment (a job id, a pipe name) and percent-encode it."""
    if not isinstance(value, str):
        raise error(
            f"{what} must be a string, got {type(value).__name__} {value!r}: pass the id the start call "
            "returned, e.g. \"{{ ti.xcom_pull(task_ids='start', key='job_id') }}\""
        )
    stripped = value.strip()
    if not stripped:
        raise error(f"{what} is empty: the template rendered to nothing; check the XCom or dag_run.conf key it reads")
    plain = value.isascii() and value.isprintable()  # the common case, checked without a loop per character
    if value != stripped or (not plain and any(ord(ch) < 32 or ord(ch) == 127 for ch in value)):
        raise error(f"{what} {value[:80]!r} has surrounding whitespace or control characters: strip it before use")
    if len(value) > MAX_JOB_ID_LENGTH:
        raise error(
            f"{what} is {len(value)} characters long (limit {MAX_JOB_ID_LENGTH}): "
            "it is not an id; check what the template renders"
        )
    if not value.strip("."):  # only dots
        raise error(f"{what} {value!r} is a path step, not a name: pass the id the start call returned")
    if plain and value.isalnum():  # letters and digits only: percent-encoding leaves them as they are
        return value
    return quote(value, safe="")


def dig(document: Any, dotted_path: str) -> Any:
    """Follow 'a.b.0.c' through dicts and lists; None when any step is missing."""
    current = document
    for step in [part for part in dotted_path.split(".") if part]:
        if isinstance(current, Mapping):
            current = current.get(step)
        elif isinstance(current, list) and step.lstrip("-").isdigit() and -len(current) <= int(step) < len(current):
            current = current[int(step)]
        else:
            return None
    return current


def error_text(body: Any) -> str:
    """The API's own error message, whatever its error shape, kept short."""
    if isinstance(body, Mapping):
        for key in ("error", "message", "detail", "title", "errors"):
            value = body.get(key)
            if value:
                text = value if isinstance(value, str) else json.dumps(value)
                return text[:MAX_ERROR_TEXT]
        return json.dumps(body)[:MAX_ERROR_TEXT]
    if isinstance(body, str):
        return " ".join(body.split())[:MAX_ERROR_TEXT] or "(empty body)"
    return "(empty body)" if body is None else str(body)[:MAX_ERROR_TEXT]


def whole_number(value: Any, low: int, high: int) -> int | None:
    """A whole number in ``low..high`` from a connection extra (an int, or digits in a string), else None."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def progress_value(value: Any) -> float | None:
    """A percentage from whatever the API sends, or None when it sends nothing usable."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, min(100.0, number))


def iso_utc(moment: float) -> str:
    """Epoch seconds as ISO 8601 UTC with a ``Z``, whole seconds rounded down (a window's start stays early)."""
    return datetime.fromtimestamp(math.floor(moment), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_utc_up(moment: float) -> str:
    """``iso_utc`` rounded up: a window's end stays late."""
    return iso_utc(math.ceil(moment))


def epoch(value: Any) -> float | None:
    """An API time as epoch seconds: ISO 8601 (``Z``, offset, naive = UTC, a space for the ``T``) or epoch
    seconds / milliseconds; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            return None
        return number / 1000 if number > 1e11 else number  # epoch milliseconds (Airbyte examples)
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    text = value.strip()
    text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
