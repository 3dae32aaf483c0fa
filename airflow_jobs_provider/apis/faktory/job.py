"""The job a Faktory push sends: the operator's ``job`` dict checked and completed, and its jid.

Jids this provider makes carry their push time (``airflow-<ms>-<16 hex>``), so any later watcher,
in any process, knows how long an ``unknown`` job has been around (see apis/faktory/api.py).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from airflow_jobs_provider.apis.values import MAX_JOB_ID_LENGTH
from airflow_jobs_provider.exceptions import InvalidJobIdError, JobsConfigError

JOB_KEYS = ("jid", "jobtype", "args", "queue", "retry", "reserve_for", "at", "custom", "backtrace")
GENERATED_JID = re.compile(r"airflow-(\d{13})-[0-9a-f]{16}")


def new_jid(now: float) -> str:
    """``airflow-<push time in ms>-<16 hex>``: unique, and it tells any later watcher when the job was pushed."""
    return f"airflow-{int(now * 1000):013d}-{secrets.token_hex(8)}"


def pushed_at(jid: str) -> float | None:
    """The push time a jid made by ``new_jid`` carries; None for any other jid."""
    match = GENERATED_JID.fullmatch(jid)
    return int(match[1]) / 1000 if match else None


def checked_jid(value: object) -> str:
    """A jid travels on a command line: no whitespace, no control characters, a sane length."""
    if not isinstance(value, str) or not value:
        raise InvalidJobIdError(
            f"Faktory job id must be a non-empty string (the jid), got {value!r}: pass the job_id the push "
            "returned, e.g. \"{{ ti.xcom_pull(task_ids='push', key='job_id') }}\""
        )
    if not value.isprintable() or any(ch.isspace() for ch in value):
        raise InvalidJobIdError(f"Faktory jid {value[:80]!r} holds spaces or control characters; a jid cannot")
    if len(value) > MAX_JOB_ID_LENGTH:
        raise InvalidJobIdError(f"Faktory jid is {len(value)} characters long (limit {MAX_JOB_ID_LENGTH})")
    return value


def work_unit(spec: Mapping[str, Any], now: float) -> dict[str, Any]:
    """Faktory's job JSON from the operator's ``job`` dict, checked before anything is sent."""
    unknown = sorted(set(spec) - set(JOB_KEYS))
    if unknown:
        known = ", ".join(JOB_KEYS)
        raise JobsConfigError(f"Faktory job spec has unknown key(s) {', '.join(unknown)}; known: {known}")
    jobtype = spec.get("jobtype")
    if not isinstance(jobtype, str) or not jobtype.strip():
        raise JobsConfigError(
            f"Faktory job spec needs 'jobtype' (the worker function's name), got {jobtype!r}. "
            "Example: {'jobtype': 'SendReport', 'args': [42]}"
        )
    args = spec.get("args", [])
    if not isinstance(args, (list, tuple)):
        raise JobsConfigError(f"Faktory job 'args' must be a list, got {type(args).__name__} {args!r}")
    custom = spec.get("custom") or {}
    if not isinstance(custom, Mapping):
        raise JobsConfigError(f"Faktory job 'custom' must be a dict, got {custom!r}")
    work: dict[str, Any] = {
        "jid": checked_jid(spec["jid"]) if spec.get("jid") is not None else new_jid(now),
        "jobtype": jobtype,
        "args": list(args),
        "custom": {**custom, "track": 1},  # without it Faktory does not track the job
    }
    if spec.get("queue") is not None:
        queue = spec["queue"]
        if not isinstance(queue, str) or not queue or any(ch.isspace() for ch in queue):
            raise JobsConfigError(f"Faktory job 'queue' must be a queue name without spaces, got {queue!r}")
        work["queue"] = queue
    for key, lowest in (("retry", -1), ("reserve_for", 60), ("backtrace", 0)):
        if spec.get(key) is not None:
            work[key] = _integer(spec[key], key, lowest)
    if spec.get("at") is not None:
        work["at"] = _rfc3339(spec["at"])
    try:
        json.dumps(work)
    except (TypeError, ValueError) as exc:
        raise JobsConfigError(f"Faktory job spec is not JSON ({exc}); use plain values in 'args'") from None
    return work


def _integer(value: Any, key: str, lowest: int) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)  # templated values arrive as strings
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        raise JobsConfigError(f"Faktory job {key!r} must be an integer >= {lowest}, got {value!r}")
    return value


def _rfc3339(value: Any) -> str:
    """``at`` as RFC 3339 with a time zone; a datetime or an ISO string ('Z' allowed)."""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
        except ValueError:
            moment = None
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise JobsConfigError(f"Faktory job 'at' must be an RFC 3339 time with a zone (2026-01-01T09:00Z): {value!r}")
    return moment.isoformat().replace("+00:00", "Z")
