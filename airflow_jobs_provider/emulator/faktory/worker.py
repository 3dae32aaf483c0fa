"""The emulator's built-in Faktory worker: runs scripted jobs the way a real worker would.

It acts only on jobs pushed while a script applies (``POST /_emulator/script`` or changed
``/_emulator/defaults`` for api ``faktory``), and only if no real worker FETCHes the job during
its ``queue_seconds``. It goes through the broker's FETCH/TRACK SET/ACK/FAIL rules like any
worker: ``succeeded`` ACKs; ``failed`` FAILs every attempt, so the job shows ``failed`` between
attempts until its ``retry`` count is used up and it is ``dead``; any other outcome is the raw
state the track ends in (``unknown`` for a record that vanished).
"""

from __future__ import annotations

import asyncio

from airflow_jobs_provider.emulator.core.script import Script
from airflow_jobs_provider.emulator.faktory.broker import STATES, Broker, FaktoryError

WORKER_ID = "jobs-emulator-worker"
ERROR_TYPE = "ScriptedFailure"


async def run_scripted(broker: Broker, jid: str, script: Script) -> None:
    """Work one job to its scripted end; stops quietly if a real worker took it or it was reset away."""
    await asyncio.sleep(script.queue_seconds)
    try:
        while await _take_when_due(broker, jid):
            await _work(broker, jid, script)
            if script.outcome == "succeeded":
                broker.ack(jid)
                return
            if script.outcome != "failed":
                broker.finish_raw(jid, STATES.final(script.outcome))
                return
            if broker.fail(jid, ERROR_TYPE, script.error) == "dead":
                return
    except FaktoryError:
        return  # the job left the worker's hands (reset, forced, ACKed by someone else)


async def _take_when_due(broker: Broker, jid: str) -> bool:
    """Reserve the job as soon as it is ready again (a retry waits for its ``retry_at``)."""
    while (due := broker.retry_due(jid)) is not None and (wait := due - broker.store.now()) > 0:
        await asyncio.sleep(wait)
    return broker.take(jid, WORKER_ID)


async def _work(broker: Broker, jid: str, script: Script) -> None:
    """Spend ``duration`` working, reporting each scripted progress step with TRACK SET."""
    steps = script.progress
    if not steps:
        await asyncio.sleep(script.duration)
        return
    for index, percent in enumerate(steps, start=1):
        broker.track_set({"jid": jid, "percent": percent, "desc": f"step {index} of {len(steps)}"})
        await asyncio.sleep(script.duration / len(steps))
