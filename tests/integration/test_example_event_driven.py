"""example_event_driven.py: the producer's jobs reach the consumer through its asset watcher.

The producer runs with dag.test(). The consumer's watcher is the very trigger object of the
example's asset. Airflow's TriggerRunner runs it, before and after the producer run, with the
cursor kept in a fake supervisor's store in between. The consumer's task code then reads the
jobs from the events as Airflow puts them in an asset event's extra.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from tests.support.dagrun import run_dag
from tests.support.events import PROFILES, WAIT_TIMEOUT, more_polls, needs_asset_state_store
from tests.support.jobs import jobs_on
from tests.support.polling import apoll_until
from tests.support.triggerer import FakeSupervisor, running_triggerer, supervisor_comms

pytestmark = [pytest.mark.usefixtures("airflow_db"), needs_asset_state_store]
EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "example_event_driven.py"


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_event_driven", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_consumer_gets_one_event_per_copy_job_the_producer_started(live, capsys):
    dags = example()
    asset = dags.sales_rollup_copied
    (watcher,) = asset.watchers
    profile = PROFILES["tinybird"]
    supervisor = FakeSupervisor()
    with supervisor_comms(supervisor):
        async with running_triggerer() as triggerer:  # the consumer DAG is unpaused: its watcher starts
            await triggerer.add(1, watcher.trigger, {asset.name: asset.uri})
            await apoll_until(lambda: supervisor.state, timeout=WAIT_TIMEOUT, what="the watcher's baseline")

    live.script("tinybird", duration=0.5, queue_seconds=0.1, times=3)
    live.script("tinybird", outcome="failed", duration=0.5, queue_seconds=0.1)
    result = run_dag("example_event_producer")
    failed_copy = await _start_other_copies(live)

    with supervisor_comms(supervisor):
        async with running_triggerer() as triggerer:
            await triggerer.add(1, watcher.trigger, {asset.name: asset.uri})
            await apoll_until(lambda: len(triggerer.events_so_far()) >= 3, timeout=WAIT_TIMEOUT, what="three events")
            await more_polls(live, profile, 2)
            events = triggerer.take_events()

    started = {result.xcom(f"start_copy_{number}", "job_id") for number in (1, 2, 3)}
    assert result.task_states == {"start_copy_1": "success", "start_copy_2": "success", "start_copy_3": "success"}
    assert {payload["job_id"] for _, payload in events} == started and len(events) == 3, f"not {failed_copy}"

    asset_events = [SimpleNamespace(extra={"from_trigger": True, "payload": payload}) for _, payload in events]
    jobs = dags.finished_jobs(asset_events)
    dags.print_jobs(jobs)
    assert {job["job_id"] for job in jobs} == started
    printed = capsys.readouterr().out
    assert all(f"job {job_id} (sales_rollup) finished SUCCEEDED" in printed for job_id in started)
    assert len(jobs_on(live)) == 5


async def _start_other_copies(live: object) -> str:
    """A failed copy of the same pipe and a copy of another pipe: neither reaches the consumer."""
    from airflow_jobs_provider.hooks.jobs import JobsHook

    hook = JobsHook("jobs_default")
    failed = hook.start_job({"kind": "copy", "pipe": "sales_rollup"}).job_id
    hook.start_job({"kind": "copy", "pipe": "other_pipe"})
    return failed


def test_consumer_dags_are_scheduled_on_the_watched_assets():
    dags = example()

    for dag, asset in [
        (dags.consumer, dags.sales_rollup_copied),
        (dags.keboola_failures, dags.keboola_failed),
        (dags.airbyte_syncs, dags.airbyte_synced),
    ]:
        (watcher,) = asset.watchers
        assert type(watcher.trigger).__name__ == "JobEventTrigger"
        assert list(dag.timetable.asset_condition.objects) == [asset]
    assert dags.keboola_failed.watchers[0].trigger.serialize()[1]["states"] == ["FAILED"]
