"""The contenders of the triggerer-scale benchmark, each turned into N watch coroutines.

- ``ours``: JobStatusTrigger on the emulator's Airbyte API (connection ``jobs_airbyte``).
- ``ours_batched``: JobStatusTrigger on the emulator's Keboola API, whose job search takes a list
  of ids, so the triggers of one process share their polls (triggers/batch_poller.py).
- ``airbyte``: AirbyteSyncTrigger from apache-airflow-providers-airbyte (connection ``airbyte_bench``).
  Its ``run()`` calls the provider's sync hook (airbyte-api SDK over httpx) on the event loop.
- ``session_per_poll``: the pattern of the dbt Cloud and HTTP triggers, written here: an aiohttp
  session (and so a new TCP connection) for every poll.
- ``floor``: not a trigger. A bare loop per job: GET with one shared aiohttp session, decode the
  JSON, check the state, sleep. No retries, no logging, no event: what any watcher must spend.

Triggers are built the way the triggerer builds them: ``serialize()``, the kwargs through
``airflow.sdk.serde``, then the class re-imported from its path and called with them.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

AIRBYTE_CONN_ID = "airbyte_bench"
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
CONTENDERS = ("ours", "ours_batched", "airbyte", "session_per_poll", "floor")
API_OF = {"ours": "airbyte", "ours_batched": "keboola", "airbyte": "airbyte", "session_per_poll": "airbyte",
          "floor": "airbyte"}  # fmt: skip
"""Which emulated API each contender watches: all but the batched one read the same Airbyte job GET."""

Watch = Callable[[], Awaitable[None]]
"""One watch: runs until its job ends, then returns (recording when it saw the end)."""


def connection_env(url: str, token: str) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` for every contender, pointing at the emulator at ``url``."""
    from airflow_jobs_provider.emulator.airbyte.auth import CLIENT_ID
    from airflow_jobs_provider.emulator.connections import connection_env as jobs_connections

    airbyte = {"conn_type": "airbyte", "host": f"{url}/v1", "login": CLIENT_ID, "password": token}
    return {**jobs_connections(url, token), f"AIRFLOW_CONN_{AIRBYTE_CONN_ID.upper()}": json.dumps(airbyte)}


def rebuilt(trigger: BaseTrigger) -> BaseTrigger:
    """What the triggerer does with a trigger row: kwargs through serde, class from its path."""
    from airflow.sdk.serde import deserialize, serialize

    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    trigger_class = getattr(importlib.import_module(module), name)
    stored: dict[str, Any] = deserialize(serialize(kwargs))  # type: ignore[assignment]
    return trigger_class(**stored)  # type: ignore[no-any-return]


class SessionPerPollTrigger(BaseTrigger):
    """The dbt Cloud / HttpSensorTrigger pattern: resolve the connection, then a new session per poll.

    Written for this benchmark (no peer code copied): it reads an Airbyte job with a bearer token.
    """

    def __init__(self, job_id: str, conn_id: str, poll_interval: float) -> None:
        super().__init__()
        self.job_id = job_id
        self.conn_id = conn_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"job_id": self.job_id, "conn_id": self.conn_id, "poll_interval": self.poll_interval},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        import aiohttp
        from airflow.sdk.bases.hook import BaseHook

        conn = await BaseHook.aget_connection(self.conn_id)
        url = f"{conn.host}/jobs/{self.job_id}"
        headers = {"Authorization": f"Bearer {conn.password}"}
        while True:
            async with aiohttp.ClientSession(headers=headers) as session, session.get(url) as answer:
                answer.raise_for_status()
                status = (await answer.json())["status"]
            if status in TERMINAL:
                yield TriggerEvent({"status": status, "job_id": self.job_id})
                return
            await asyncio.sleep(self.poll_interval)


def trigger_for(contender: str, job_id: str, interval: float) -> BaseTrigger:
    if contender in ("ours", "ours_batched"):
        from airflow_jobs_provider.triggers.jobs import JobStatusTrigger

        conn_id = "jobs_airbyte" if contender == "ours" else "jobs_keboola"
        return JobStatusTrigger(job_id=job_id, jobs_conn_id=conn_id, poll_interval=interval)
    if contender == "airbyte":
        from airflow.providers.airbyte.triggers.airbyte import AirbyteSyncTrigger

        far = time.time() + 7 * 24 * 3600
        return AirbyteSyncTrigger(job_id=int(job_id), conn_id=AIRBYTE_CONN_ID, end_time=far, poll_interval=interval)
    if contender == "session_per_poll":
        return SessionPerPollTrigger(job_id=job_id, conn_id=AIRBYTE_CONN_ID, poll_interval=interval)
    raise ValueError(f"{contender!r} is not a trigger")


def trigger_watches(contender: str, job_ids: list[str], interval: float, seen: Callable[[str], None]) -> list[Watch]:
    """One watch per job: drive the rebuilt trigger's ``run()`` to its event, as the triggerer does."""
    triggers = [rebuilt(trigger_for(contender, job_id, interval)) for job_id in job_ids]

    def watch(job_id: str, trigger: BaseTrigger) -> Watch:
        async def run() -> None:
            async for event in trigger.run():
                if event.payload.get("status") not in ("success", "succeeded"):
                    raise RuntimeError(f"{contender} job {job_id}: unexpected event {event.payload}")
                seen(job_id)
                return

        return run

    return [watch(job_id, trigger) for job_id, trigger in zip(job_ids, triggers, strict=True)]


class Floor:
    """The bare minimum: one shared session, GET, JSON decode, state check, sleep."""

    def __init__(self, url: str, token: str) -> None:
        self.url = f"{url}/v1/jobs"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.session: Any = None

    async def __aenter__(self) -> Floor:
        import aiohttp

        self.session = aiohttp.ClientSession(headers=self.headers)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.session.close()

    def watches(self, job_ids: list[str], interval: float, seen: Callable[[str], None]) -> list[Watch]:
        def watch(job_id: str) -> Watch:
            async def run() -> None:
                url = f"{self.url}/{job_id}"
                while True:
                    async with self.session.get(url) as answer:
                        body = await answer.json()
                    if body["status"] in TERMINAL:
                        seen(job_id)
                        return
                    await asyncio.sleep(interval)

            return run

        return [watch(job_id) for job_id in job_ids]
