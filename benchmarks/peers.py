"""The contenders of the triggerer-scale benchmark, each turned into N watch coroutines.

- ``ours``: JobStatusTrigger on the emulator's Airbyte API (connection ``jobs_airbyte``), held on
  the per-job path (a GET per poll, ``per_job_path``) whatever batching the installed code does.
- ``ours_batched``: JobStatusTrigger on the emulator's Keboola API, whose job search takes a list
  of ids, so the triggers of one process share their polls (triggers/batch_poller.py).
- ``ours_batched_tinybird`` / ``_airbyte`` / ``_rest``: JobStatusTrigger as installed on that API:
  batched where the code batches that API, a GET per poll where it does not. The benchmark only
  counts the requests the emulator served, so it shows whatever the installed code does.
- ``airbyte``: AirbyteSyncTrigger from apache-airflow-providers-airbyte (connection ``airbyte_bench``).
  Its ``run()`` calls the provider's sync hook (airbyte-api SDK over httpx) on the event loop.
- ``session_per_poll``: the pattern of the dbt Cloud and HTTP triggers, written here: an aiohttp
  session (and so a new TCP connection) for every poll.
- ``floor``: not a trigger. A bare loop per job: GET with one shared aiohttp session, decode the
  JSON, check the state, sleep. No retries, no logging, no event: what any watcher must spend.
- ``ours_tls``, ``session_per_poll_tls``, ``floor_tls``: the same three over HTTPS (the emulator
  serving a throwaway CA's certificate, benchmarks/tls.py): a session per poll pays a handshake a poll.

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
"""The contenders of the sweep over N (100 to 10,000 watches)."""
BATCHED_BY_API = {"tinybird": "ours_batched_tinybird", "keboola": "ours_batched", "airbyte": "ours_batched_airbyte",
                  "rest": "ours_batched_rest"}  # fmt: skip
TLS_CONTENDERS = ("ours_tls", "session_per_poll_tls", "floor_tls")
API_OF = {"ours": "airbyte", "ours_batched": "keboola", "airbyte": "airbyte", "session_per_poll": "airbyte",
          "floor": "airbyte", "ours_batched_tinybird": "tinybird", "ours_batched_airbyte": "airbyte",
          "ours_batched_rest": "acme", "ours_tls": "airbyte", "session_per_poll_tls": "airbyte",
          "floor_tls": "airbyte"}  # fmt: skip
"""Which emulated API each contender watches: the per-job ones and the peers read the same Airbyte job GET."""
CONN_OF = {"ours": "jobs_airbyte", "ours_tls": "jobs_airbyte", "ours_batched": "jobs_keboola",
           "ours_batched_airbyte": "jobs_airbyte", "ours_batched_tinybird": "jobs_default",
           "ours_batched_rest": "jobs_acme_batched"}  # fmt: skip
PER_JOB = frozenset({"ours", "ours_tls"})
"""Contenders held on the per-job path (``per_job_path``): the figure ``cpu_per_poll_ratio_to_floor`` is about."""

Watch = Callable[[], Awaitable[None]]
"""One watch: runs until its job ends, then returns (recording when it saw the end)."""


def connection_env(url: str, token: str, ca: str | None = None) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` for every contender, pointing at the emulator at ``url`` (trusting ``ca`` on HTTPS)."""
    from airflow_jobs_provider.emulator.airbyte.auth import CLIENT_ID
    from airflow_jobs_provider.emulator.connections import connection_env as jobs_connections

    airbyte: dict[str, Any] = {"conn_type": "airbyte", "host": f"{url}/v1", "login": CLIENT_ID, "password": token}
    env = {**jobs_connections(url, token), f"AIRFLOW_CONN_{AIRBYTE_CONN_ID.upper()}": json.dumps(airbyte)}
    if ca is not None:  # every connection trusts the throwaway CA (the provider's ``verify`` extra)
        for name, value in env.items():
            conn = json.loads(value)
            conn["extra"] = {**conn.get("extra", {}), "verify": ca}
            env[name] = json.dumps(conn)
    return env


def per_job_path() -> None:
    """Hold JobStatusTrigger on a GET per poll: the per-job path, whatever the API could batch.

    It replaces the trigger module's ``watch_job`` with one that always reads its own job. If a
    later version reads jobs another way, the run's requests per job per interval show it (the
    report flags a per-job run that was not one request per job per interval).
    """
    from contextlib import asynccontextmanager

    from airflow_jobs_provider.triggers import jobs
    from airflow_jobs_provider.triggers.batch_poller import JobWatch

    @asynccontextmanager
    async def own_gets(hook: Any, job_id: str, poll_interval: float) -> AsyncIterator[JobWatch]:
        yield JobWatch(hook, job_id)

    jobs.watch_job = own_gets  # type: ignore[assignment]


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
        tls = _tls_context(conn.extra_dejson.get("verify"))
        while True:
            connector = aiohttp.TCPConnector(ssl=tls)  # a new session, so a new connection (and handshake)
            async with (
                aiohttp.ClientSession(headers=headers, connector=connector) as session,
                session.get(url) as answer,
            ):
                answer.raise_for_status()
                status = (await answer.json())["status"]
            if status in TERMINAL:
                yield TriggerEvent({"status": status, "job_id": self.job_id})
                return
            await asyncio.sleep(self.poll_interval)


def _tls_context(ca: str | None) -> Any:
    """One SSL context per trigger, made once (as aiohttp caches its default one): a poll pays the handshake only."""
    if not ca:
        return True
    import ssl

    return ssl.create_default_context(cafile=ca)


def trigger_for(contender: str, job_id: str, interval: float) -> BaseTrigger:
    if contender in CONN_OF:
        from airflow_jobs_provider.triggers.jobs import JobStatusTrigger

        return JobStatusTrigger(job_id=job_id, jobs_conn_id=CONN_OF[contender], poll_interval=interval)
    if contender == "airbyte":
        from airflow.providers.airbyte.triggers.airbyte import AirbyteSyncTrigger

        far = time.time() + 7 * 24 * 3600
        return AirbyteSyncTrigger(job_id=int(job_id), conn_id=AIRBYTE_CONN_ID, end_time=far, poll_interval=interval)
    if contender in ("session_per_poll", "session_per_poll_tls"):
        return SessionPerPollTrigger(job_id=job_id, conn_id=AIRBYTE_CONN_ID, poll_interval=interval)
    raise ValueError(f"{contender!r} is not a trigger")


def trigger_watches(contender: str, job_ids: list[str], interval: float, seen: Callable[[str], None]) -> list[Watch]:
    """One watch per job: drive the rebuilt trigger's ``run()`` to its event, as the triggerer does."""
    if contender in PER_JOB:
        per_job_path()
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

    def __init__(self, url: str, token: str, ca: str | None = None) -> None:
        self.url = f"{url}/v1/jobs"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.ca = ca
        self.session: Any = None

    async def __aenter__(self) -> Floor:
        import aiohttp

        connector = aiohttp.TCPConnector(ssl=_tls_context(self.ca))
        self.session = aiohttp.ClientSession(headers=self.headers, connector=connector)
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
