"""One aiohttp session per event loop and connection settings, shared by every async hook using them.

A triggerer runs thousands of triggers on one loop. With a session per trigger, each watch holds
its own connection pool, an idle keep-alive TCP connection and the buffers behind it (tens of KB,
and a file descriptor, per watch). Triggers of one connection share a session here instead: one
keep-alive pool whose size follows the requests in flight, not the number of watches.

The shared pool has no connection limit, like the per-trigger sessions it replaces, so a slow
answer never queues another trigger's request behind it. Leases are counted and the session is
closed when its last user leaves, so a hook that is done leaves nothing open.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Hashable
from typing import Any

_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, _Shared]] = weakref.WeakKeyDictionary()
"""Per loop (sessions are bound to the loop they were made on), per key: the shared session."""


class _Shared:
    def __init__(self, session: Any) -> None:
        self.session = session
        self.users = 0


class SessionLease:
    """The right to use a shared session until ``release()``; the last release closes the session."""

    def __init__(self, pool: dict[Hashable, _Shared], key: Hashable, shared: _Shared) -> None:
        self._pool = pool
        self._key = key
        self._shared: _Shared | None = shared
        self.session = shared.session

    async def release(self) -> None:
        shared, self._shared = self._shared, None
        if shared is None:  # released twice: nothing more to give back
            return
        shared.users -= 1
        if shared.users > 0:
            return
        if self._pool.get(self._key) is shared:
            del self._pool[self._key]
        await shared.session.close()


def lease_session(key: Hashable, new_session: Callable[[], Any]) -> SessionLease:
    """A lease on the running loop's session for ``key``, made with ``new_session()`` when there is none."""
    pool = _pools.setdefault(asyncio.get_running_loop(), {})
    shared = pool.get(key)
    if shared is None or shared.session.closed:  # closed behind our back: never hand that one out
        shared = pool[key] = _Shared(new_session())
    shared.users += 1
    return SessionLease(pool, key, shared)


def open_sessions() -> int:
    """Shared sessions open on the running loop (tests check that none is left behind)."""
    return len(_pools.get(asyncio.get_running_loop(), {}))
