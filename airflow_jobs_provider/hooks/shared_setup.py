"""One resolved connection, adapter and HTTP transport per connection on an event loop, leased.

A restarted triggerer adopts all its triggers at once: 10,000 watches of one connection would
each resolve the connection, check its extras, build an adapter, a state table, a retry policy
and a transport, in one burst on the loop, and keep 10,000 copies of them alive. Here the async
hooks of one connection (and status overrides) share one set-up instead: the first builds it,
the ones that come meanwhile wait for that build, the last one out closes its transport.

Freshness: a set-up is handed to new hooks for ``REUSE_SECONDS`` after it was built; a hook that
comes later resolves the connection again. So an edited connection reaches new triggers within
that time, while a restart's burst shares one lookup. A build that fails is not shared: every hook
then resolves the connection on its own and reports its own error, as without sharing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from airflow_jobs_provider.hooks import loop_shared

REUSE_SECONDS = 30.0
"""Seconds a set-up is handed to new hooks after it was built (how stale a connection can be)."""
SETUPS = "jobs hook set-up"


@dataclass(frozen=True)
class Setup:
    """What the hooks of one connection share: ``api`` and ``transport`` only for HTTP APIs."""

    settings: Any
    api: Any = None
    policy: Any = None
    transport: Any = None


class _Entry:
    def __init__(self, born: float, build: Callable[[], Awaitable[Setup]]) -> None:
        self.born = born
        self.users = 0
        self.failed = False
        self.building: asyncio.Task[Setup] = asyncio.ensure_future(build())


class SetupLease:
    """The right to use a shared set-up until ``release()``; the last release closes its transport."""

    def __init__(self, key: Hashable, entry: _Entry, setup: Setup) -> None:
        self._key = key
        self._entry: _Entry | None = entry
        self.setup = setup

    async def release(self) -> None:
        entry, self._entry = self._entry, None
        if entry is None:
            return
        entry.users -= 1
        if entry.users > 0:
            return
        loop_shared.forget(SETUPS, self._key, entry)
        if self.setup.transport is not None:
            await self.setup.transport.close()


async def lease_setup(key: Hashable, build: Callable[[], Awaitable[Setup]]) -> SetupLease | None:
    """A lease on the loop's set-up for ``key`` (built with ``build()`` when there is no fresh one), or
    None when building it failed: the caller then builds its own and meets the error itself."""
    loop = asyncio.get_running_loop()
    entry = loop_shared.shared(
        SETUPS,
        key,
        lambda: _Entry(loop.time(), build),
        usable=lambda found: not found.failed and loop.time() - found.born < REUSE_SECONDS,
    )
    entry.users += 1
    try:
        setup = await asyncio.shield(entry.building)  # a waiter cancelled meanwhile leaves the build running
    except asyncio.CancelledError:
        await _leave(key, entry)
        raise
    except Exception:  # the caller repeats the build on its own and raises its own error
        entry.failed = True
        await _leave(key, entry)
        return None
    return SetupLease(key, entry, setup)


async def _leave(key: Hashable, entry: _Entry) -> None:
    """A user that never got the set-up; when it was the last, the set-up is closed (if it was built)."""
    entry.users -= 1
    if entry.users > 0:
        return
    loop_shared.forget(SETUPS, key, entry)
    if entry.building.done() and not entry.building.cancelled() and entry.building.exception() is None:
        transport: Any = entry.building.result().transport
        if transport is not None:
            await transport.close()
    elif not entry.building.done():
        entry.building.cancel()


def open_setups() -> int:
    """Shared set-ups on the running loop (tests check that none is left behind)."""
    return len(loop_shared.entries_of(SETUPS))
