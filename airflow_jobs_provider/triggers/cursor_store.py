"""Where an event watcher keeps its cursor: the asset state store (Airflow 3.3+) or memory.

Airflow 3.3 gives every event trigger an ``asset_state_store`` before it runs. Values kept there
are in the metadata database, so they survive triggerer restarts. Older Airflow has no such
store. The cursor then lives only in the trigger instance, and a restarted triggerer starts
with a new baseline: jobs that finished while it was down are never reported.

One trigger can watch several assets (the same trigger in two ``AssetWatcher``s). The injected
object then refuses its single-asset shortcuts, so the cursor is written to every watched asset
and read back as the merge of all copies. Nothing is reported twice, even if one write was lost.
"""

from __future__ import annotations

from typing import Any, Protocol

from airflow_jobs_provider.triggers.cursor import JobCursor


class Log(Protocol):
    """The trigger's logger (Airflow's own logger class, or a stdlib one in tests)."""

    def warning(self, msg: Any, /, *args: Any) -> Any: ...


class CursorStore:
    """Load and save one watcher's cursor under ``key``; a save that changes nothing is skipped."""

    def __init__(self, state_store: Any, key: str, log: Log) -> None:
        self.key = key
        self.log = log
        self._targets = _per_asset(state_store) if state_store is not None else []
        self._saved: dict[str, Any] | None = None

    @property
    def durable(self) -> bool:
        return bool(self._targets)

    async def load(self) -> JobCursor | None:
        if not self.durable:
            self.log.warning(
                "no asset state store (it needs Airflow 3.3+): cursor %s lives in memory, so after a triggerer "
                "restart, jobs that finished while it was down are not reported",
                self.key,
            )
            return None
        found: JobCursor | None = None
        copies = []
        for target in self._targets:
            stored = await target.aget(self.key, None)
            copies.append(stored)
            cursor = JobCursor.from_json(stored)
            if stored is not None and cursor is None:
                self.log.warning("ignoring unreadable cursor %s: %.200s", self.key, stored)
            if cursor is not None:
                found = cursor if found is None else found.merge(cursor)
        if found is not None and all(copy == found.to_json() for copy in copies):
            self._saved = found.to_json()  # else the first save writes the merged cursor to every asset
        return found

    async def save(self, document: dict[str, Any]) -> None:
        if document == self._saved:
            return
        for target in self._targets:
            await target.aset(self.key, document)
        self._saved = document


def _per_asset(state_store: Any) -> list[Any]:
    """One accessor per watched asset.

    ``AssetStateStoreAccessors`` offers ``aget``/``aset`` only while it holds exactly one asset,
    and it has no public way to list its assets. So the per-asset accessors are read from its
    two mappings. If a later Airflow renames them, the object itself is used, which still works
    for the usual case of one asset per trigger.
    """
    per_asset = [*getattr(state_store, "_by_name", {}).values(), *getattr(state_store, "_by_uri", {}).values()]
    return per_asset or [state_store]
