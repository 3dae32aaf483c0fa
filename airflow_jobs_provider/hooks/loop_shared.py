"""One registry of what the async hooks on one event loop share: sessions, batch pollers, access tokens.

A triggerer runs thousands of triggers on one loop. Each of them holding its own aiohttp session
(a keep-alive pool, buffers, a file descriptor), its own poll loop or its own Airbyte access token
would cost thousands of each. What they can share lives here instead, per loop (sessions and
tasks are bound to the loop they were made on) and per key; a loop that is gone takes its
entries with it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
_registry: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, Hashable], Any]] = (
    weakref.WeakKeyDictionary()
)


def _entries() -> dict[tuple[str, Hashable], Any]:
    return _registry.setdefault(asyncio.get_running_loop(), {})


def shared(kind: str, key: Hashable, make: Callable[[], T], *, usable: Callable[[T], bool] | None = None) -> T:
    """The running loop's ``kind`` entry for ``key``; made with ``make()`` when there is none, or when
    ``usable`` says the one there can no longer be handed out (a session closed behind our back)."""
    entries = _entries()
    value = entries.get((kind, key))
    if value is None or (usable is not None and not usable(value)):
        value = entries[(kind, key)] = make()
    return value  # type: ignore[no-any-return]


def forget(kind: str, key: Hashable, value: object) -> None:
    """Remove the entry if it is still ``value`` (a newer one made meanwhile stays)."""
    entries = _entries()
    if entries.get((kind, key)) is value:
        del entries[(kind, key)]


def entries_of(kind: str) -> list[Any]:
    """The running loop's entries of one kind (tests check that none outlives its users)."""
    return [value for (entry_kind, _), value in _entries().items() if entry_kind == kind]


# -- aiohttp sessions: leased, and closed when the last user leaves
SESSIONS = "aiohttp session"


class _Shared:
    def __init__(self, session: Any) -> None:
        self.session = session
        self.users = 0


class SessionLease:
    """The right to use a shared session until ``release()``; the last release closes the session.

    The shared pool has no connection limit, like the per-trigger sessions it replaces, so a slow
    answer never queues another trigger's request behind it.
    """

    def __init__(self, key: Hashable, shared_session: _Shared) -> None:
        self._key = key
        self._shared: _Shared | None = shared_session
        self.session = shared_session.session

    async def release(self) -> None:
        shared_session, self._shared = self._shared, None
        if shared_session is None:  # released twice: nothing more to give back
            return
        shared_session.users -= 1
        if shared_session.users > 0:
            return
        forget(SESSIONS, self._key, shared_session)
        await shared_session.session.close()


def lease_session(key: Hashable, new_session: Callable[[], Any]) -> SessionLease:
    """A lease on the running loop's session for ``key``, made with ``new_session()`` when there is none."""
    entry = shared(SESSIONS, key, lambda: _Shared(new_session()), usable=lambda found: not found.session.closed)
    entry.users += 1
    return SessionLease(key, entry)


def open_sessions() -> int:
    """Shared sessions open on the running loop (tests check that none is left behind)."""
    return len(entries_of(SESSIONS))
