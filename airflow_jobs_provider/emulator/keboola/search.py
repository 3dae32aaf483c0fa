"""``GET /search/jobs`` (job-apis.md §2.4): filters, sort and paging over rendered job objects.

Multi-value filters are read in every form a client sends: ``name[]=a&name[]=b`` (the spec's
bracket form), ``name[0]=a&name[1]=b`` (PHP's http_build_query) and ``name=a&name=b``. Only
ISO-8601 times are understood, not the ``-8 hours`` forms Keboola's strtotime also takes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from multidict import MultiMapping

MULTI = (
    "id", "runId", "branchId", "tokenId", "tokenDescription", "componentId", "configId", "configRowIds", "mode",
    "status",
)  # fmt: skip
ALIASES = {"component": "componentId", "config": "configId"}
SINGLE = ("type", "parentRunId")
RANGES = {
    "createdTime": "time", "startTime": "time", "endTime": "time", "durationSeconds": "number",
}  # fmt: skip
SORT_FIELDS = (
    "id", "runId", "projectId", "branchId", "componentId", "configId", "tokenDescription", "status", "createdTime",
    "updatedTime", "startTime", "endTime", "durationSeconds",
)  # fmt: skip
DEFAULT_LIMIT = 100
MAX_WINDOW = 10_000
"""``offset + limit`` at most: Elasticsearch's default ``max_result_window`` behind the search (unverified
for Keboola; the spec documents no maximum)."""
BRACKETED = re.compile(r"(?P<name>\w+)\[\d*\]")


class SearchError(ValueError):
    """A query the search refuses; the message is the 400 error text."""


@dataclass(frozen=True)
class Search:
    values: Mapping[str, frozenset[str]]
    ranges: Mapping[str, tuple[Any, Any]]
    sort_by: str
    descending: bool
    offset: int
    limit: int

    def run(self, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        matching = [job for job in jobs if self.matches(job)]
        matching.sort(key=_sort_key(self.sort_by), reverse=self.descending)
        return matching[self.offset : self.offset + self.limit]

    def matches(self, job: Mapping[str, Any]) -> bool:
        for name, wanted in self.values.items():
            if not wanted & _field_values(job, name):
                return False
        for field, (low, high) in self.ranges.items():
            value = _range_value(job.get(field), RANGES[field])
            if value is None and (low is not None or high is not None):
                return False
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        return True


def parse_search(query: MultiMapping[str]) -> Search:
    values: dict[str, set[str]] = {}
    singles: dict[str, str] = {}
    for key, value in query.items():
        bracketed = BRACKETED.fullmatch(key)
        name = ALIASES.get(bracketed["name"] if bracketed else key, bracketed["name"] if bracketed else key)
        if name in MULTI:
            values.setdefault(name, set()).add(value)
        elif name in SINGLE or _range_field(name) or name in ("offset", "limit", "sortBy", "sortOrder"):
            if bracketed or name in singles:
                raise SearchError(f"Parameter {key!r} takes a single value")
            singles[name] = value
        else:
            raise SearchError(f"Unknown search parameter {key!r}")
    for name in SINGLE:
        if name in singles:
            values[name] = {singles[name]}
    ranges: dict[str, tuple[Any, Any]] = {}
    for field, kind in RANGES.items():
        low, high = singles.get(f"{field}From"), singles.get(f"{field}To")
        if low is not None or high is not None:
            ranges[field] = (_bound(low, kind, f"{field}From"), _bound(high, kind, f"{field}To"))
    sort_by = singles.get("sortBy", "id")
    if sort_by not in SORT_FIELDS:
        raise SearchError(f"Invalid sortBy {sort_by!r}; allowed: {', '.join(SORT_FIELDS)}")
    order = singles.get("sortOrder", "desc")
    if order not in ("asc", "desc"):
        raise SearchError(f"Invalid sortOrder {order!r}; allowed: asc, desc")
    offset = _count(singles.get("offset", "0"), "offset")
    limit = _count(singles.get("limit", str(DEFAULT_LIMIT)), "limit")
    if offset + limit > MAX_WINDOW:
        raise SearchError(f"Result window is too large, offset + limit must be less than or equal to {MAX_WINDOW}")
    return Search(
        values={name: frozenset(wanted) for name, wanted in values.items()},
        ranges=ranges,
        sort_by=sort_by,
        descending=order == "desc",
        offset=offset,
        limit=limit,
    )


def _range_field(name: str) -> bool:
    return any(name in (f"{field}From", f"{field}To") for field in RANGES)


def _field_values(job: Mapping[str, Any], name: str) -> set[str]:
    """The job's values for a filter; ``branchId[]=null`` matches the main branch."""
    source = {"componentId": "component", "configId": "config"}.get(name, name)
    if name in ("tokenId", "tokenDescription"):
        value: Any = job["token"]["id" if name == "tokenId" else "description"]
    else:
        value = job.get(source)
    if isinstance(value, list):
        return {str(item) for item in value}
    return {"null"} if value is None else {str(value)}


def _bound(text: str | None, kind: str, name: str) -> Any:
    if text is None:
        return None
    parsed = _range_value(text, kind)
    if parsed is None:
        raise SearchError(f"Invalid value {text!r} for {name}: expected an ISO-8601 time or a number")
    return parsed


def _range_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "number":
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    try:
        text = str(value)
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()  # naive = UTC


def _count(text: str, name: str) -> int:
    if not text.isdigit():
        raise SearchError(f"Invalid value {text!r} for {name}: expected an integer >= 0")
    return int(text)


def _sort_key(field: str) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    source = {"componentId": "component", "configId": "config", "updatedTime": "endTime"}.get(field, field)

    def key(job: Mapping[str, Any]) -> tuple[Any, ...]:
        value = job["project"]["id"] if field == "projectId" else job.get(source)
        if value is None:
            return (0, 0, "")
        if field in ("id", "durationSeconds") or (isinstance(value, str) and value.isdigit()):
            return (1, float(value), "")
        return (1, 0, str(value))

    return key
