"""Airflow 3.3's own TriggerRunner, driven in the test process as the triggerer drives it.

The triggerer's runner process gets its work as ``RunTrigger`` workloads from its supervisor.
It rebuilds each trigger from the stored kwargs and injects ``asset_state_store`` for asset
watchers (``create_triggers``). It then runs the trigger: through a shared stream when
``shared_stream_key()`` is set, or through ``run()`` otherwise (``run_trigger``). Here the real
``TriggerRunner`` does all of that. Only the supervisor is replaced, by ``FakeSupervisor``,
which answers the asset state store messages from a dict, as the API server would from its
database. Events land in ``runner.events`` as they would before being sent out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Airflow 3 only; the tests that use this module skip on 2.11
    from airflow.triggers.base import BaseEventTrigger

STOP_TIMEOUT = 10.0


class FakeSupervisor:
    """The supervisor's side of ``SUPERVISOR_COMMS`` for the asset state store and XCom pushes; the rest is ignored."""

    def __init__(self, state: dict[tuple[str, str], Any] | None = None) -> None:
        self.state: dict[tuple[str, str], Any] = {} if state is None else state
        """(asset name or uri, key) -> value: what the metadata DB would hold."""
        self.writes = 0
        self.xcoms: list[tuple[str, str, str, str, Any]] = []
        """(dag_id, run_id, task_id, key, value) of each XCom pushed, as the execution API would get it."""

    def send(self, msg: Any) -> Any:
        from airflow.sdk.exceptions import ErrorType
        from airflow.sdk.execution_time import comms

        if isinstance(msg, (comms.GetAssetStateStoreByName, comms.GetAssetStateStoreByUri)):
            where = (_asset_of(msg), msg.key)
            if where not in self.state:
                return comms.ErrorResponse(error=ErrorType.ASSET_STORE_NOT_FOUND, detail={"key": msg.key})
            return comms.AssetStateStoreResult(value=self.state[where])
        if isinstance(msg, comms.SetXCom):
            self.xcoms.append((msg.dag_id, msg.run_id, msg.task_id, msg.key, msg.value))
        if isinstance(msg, (comms.SetAssetStateStoreByName, comms.SetAssetStateStoreByUri)):
            self.state[(_asset_of(msg), msg.key)] = msg.value
            self.writes += 1
        return None

    async def asend(self, msg: Any) -> Any:
        await asyncio.sleep(0)  # a real round trip yields to the loop
        return self.send(msg)


def _asset_of(msg: Any) -> str:
    """The asset a store message is about: its name, or its URI for the ...ByUri messages."""
    return str(getattr(msg, "name", None) or msg.uri)


@contextlib.contextmanager
def supervisor_comms(supervisor: FakeSupervisor) -> Iterator[FakeSupervisor]:
    """Install ``supervisor`` as the process's SUPERVISOR_COMMS for the block, as the triggerer does."""
    from airflow.sdk.execution_time import task_runner

    before = getattr(task_runner, "SUPERVISOR_COMMS", None)
    task_runner.SUPERVISOR_COMMS = supervisor  # type: ignore[assignment]
    try:
        yield supervisor
    finally:
        task_runner.SUPERVISOR_COMMS = before  # type: ignore[assignment]


class Triggerer:
    """One TriggerRunner: add watchers by id, read their events, stop them like a restart would."""

    def __init__(self) -> None:
        from airflow.jobs.triggerer_job_runner import TriggerRunner

        self.runner = TriggerRunner()
        self.runner.job_id = 1

    async def add(self, trigger_id: int, trigger: BaseEventTrigger, assets: dict[str, str]) -> None:
        """Store the trigger as the DAG processor does, then let the runner rebuild and start it."""
        from airflow.executors.workloads.trigger import RunTrigger
        from airflow.models.trigger import Trigger
        from airflow.serialization.encoders import encode_trigger

        encoded = encode_trigger(trigger)
        workload = RunTrigger(
            id=trigger_id,
            classpath=encoded["classpath"],
            encrypted_kwargs=Trigger.encrypt_kwargs(encoded["kwargs"]),
            watched_assets=assets,
        )
        self.runner.to_create.append(workload)
        await self.runner.create_triggers()

    def events_so_far(self) -> list[tuple[int, dict[str, Any]]]:
        """(trigger id, payload) of the events fired and not yet taken, left in place."""
        self.raise_failures()
        return [(entry.trigger_id, entry.event.payload) for entry in self.runner.events]

    def take_events(self) -> list[tuple[int, dict[str, Any]]]:
        """(trigger id, payload) for each event fired since the last call, in order."""
        self.raise_failures()
        taken = []
        while self.runner.events:
            entry = self.runner.events.popleft()
            taken.append((entry.trigger_id, entry.event.payload))
        return taken

    def failures(self) -> list[BaseException]:
        """Errors of triggers whose task ended: the triggerer would report them as failed triggers."""
        found = []
        for details in self.runner.triggers.values():
            task = details["task"]
            if task.done() and not task.cancelled() and (error := task.exception()) is not None:
                found.append(error)
        return found

    def raise_failures(self) -> None:
        """A watcher that died fails the test with its own error, not with a timeout later."""
        if failures := self.failures():
            raise failures[0]

    async def stop(self, *trigger_ids: int) -> None:
        """Cancel triggers as a triggerer shutdown does (no user action, so no on_kill)."""
        tasks = [self.runner.triggers.pop(trigger_id)["task"] for trigger_id in trigger_ids]
        for task in tasks:
            task.cancel()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), STOP_TIMEOUT)

    async def stop_all(self) -> None:
        await self.stop(*list(self.runner.triggers))
        await self.runner._shared_streams.stop_all()


@contextlib.asynccontextmanager
async def running_triggerer() -> AsyncIterator[Triggerer]:
    """A Triggerer whose triggers are all stopped when the block ends, whatever happens in it."""
    triggerer = Triggerer()
    try:
        yield triggerer
    finally:
        await triggerer.stop_all()
