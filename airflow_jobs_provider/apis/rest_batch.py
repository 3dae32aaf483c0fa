"""The declarative REST API's shared-poll extras: a many-ids read and a changed-since feed.

Both are optional and user input, so they are checked here once, with messages that name the extra
and the way out:

- ``batch_get`` (``"GET /runs"``), ``batch_ids_param`` (the query parameter that takes the ids),
  ``batch_ids_style`` (``"repeat"``: ``id=1&id=2``, the default; ``"comma"``: ``ids=1,2``),
  ``batch_size`` (ids per request, 1..500, default 100) and ``batch_root`` (the dotted path of the
  job array in the answer, default ``list_root``): one request reads many jobs by id.
- ``batch_feed: true``: the ``list`` endpoint, paged by the ``list_*`` extras, is a changed-since
  feed: ``list_since_param`` takes a time and the list shows every job *updated* since then, newest
  update first by ``list_order_field``. A list sorted or filtered by creation is not a feed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_jobs_provider.apis.values import whole_number
from airflow_jobs_provider.exceptions import JobsConfigError

BATCH_EXTRAS = ("batch_get", "batch_ids_param", "batch_ids_style", "batch_size", "batch_root")
IDS_STYLES = ("repeat", "comma")
MAX_BATCH_SIZE = 500
FEED_NEEDS = ("list", "list_page_size", "list_order_field", "list_since_param")


@dataclass(frozen=True)
class BatchRead:
    """How one request reads many jobs by id (``batch_*`` extras)."""

    method: str
    path: str
    ids_param: str
    ids_style: str
    size: int
    root: str

    def params(self, job_ids: Sequence[str]) -> dict[str, str | list[str]]:
        if self.ids_style == "comma":
            return {self.ids_param: ",".join(job_ids)}
        return {self.ids_param: list(job_ids)}

    @classmethod
    def from_extras(cls, extras: Mapping[str, Any], conn_id: str, endpoint: Any, param: Any) -> BatchRead | None:
        """``endpoint(text, name)`` parses ``'METHOD /path'`` and ``param(key)`` a query parameter name,
        as the other REST extras are parsed."""
        given = [key for key in BATCH_EXTRAS if extras.get(key) not in (None, "")]
        if not given:
            return None
        where = f"connection {conn_id!r}"
        if not extras.get("batch_get"):
            raise JobsConfigError(
                f"{where}: extra {', '.join(given)} describe a many-ids read, which needs extra 'batch_get' "
                "('GET /path' of the endpoint that reads many jobs by id); add it or drop the batch_* extras"
            )
        read = endpoint(extras["batch_get"], "batch_get")
        if "{job_id}" in read.path:
            raise JobsConfigError(f"{where}: extra 'batch_get' reads many jobs: its path cannot name {{job_id}}")
        ids_param = param("batch_ids_param")
        if ids_param is None:
            raise JobsConfigError(
                f"{where}: extra 'batch_get' needs 'batch_ids_param', the query parameter that takes the ids "
                "(e.g. 'id')"
            )
        style = extras.get("batch_ids_style", "repeat")
        if style not in IDS_STYLES:
            raise JobsConfigError(
                f"{where}: extra 'batch_ids_style' must be 'repeat' (id=1&id=2) or 'comma' (id=1,2), got {style!r}"
            )
        size = whole_number(extras.get("batch_size", 100), 1, MAX_BATCH_SIZE)
        if size is None:
            given_size = extras.get("batch_size", 100)
            raise JobsConfigError(
                f"{where}: extra 'batch_size' must be a whole number 1..{MAX_BATCH_SIZE} (ids the endpoint takes "
                f"in one request), got {given_size!r}"
            )
        root = extras.get("batch_root", extras.get("list_root", ""))
        if not isinstance(root, str):
            raise JobsConfigError(f"{where}: extra 'batch_root' must be a dotted path string, got {root!r}")
        return cls(read.method, read.path, ids_param, style, size, root)


def feed_enabled(extras: Mapping[str, Any], conn_id: str) -> bool:
    """Whether extra ``batch_feed`` is on; on, the list extras a feed needs must all be there."""
    value = extras.get("batch_feed", False)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    if not isinstance(value, bool):
        raise JobsConfigError(f"connection {conn_id!r}: extra 'batch_feed' must be true or false, got {value!r}")
    missing = [key for key in FEED_NEEDS if extras.get(key) in (None, "")] if value else []
    if missing:
        raise JobsConfigError(
            f"connection {conn_id!r}: extra 'batch_feed' reads the list as a changed-since feed, which needs "
            f"extra {', '.join(missing)} (the list's page size, the update time it is sorted by, newest first, "
            "and the query parameter that takes the time); add them or drop 'batch_feed'"
        )
    return value
