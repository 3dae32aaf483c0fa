"""A DAG author's view of Airbyte: trigger a sync, then watch it; the same outcome in every wait mode."""

from __future__ import annotations

import pytest

from airflow_jobs_provider.triggers.jobs import JobStatusTrigger
from tests.support.dagrun import run_dag
from tests.support.jobs import SLOW_START

pytestmark = pytest.mark.usefixtures("airflow_db")

CONNECTION = "e735894a-e773-4938-969f-45f53957b75b"


def only_job(emulator) -> dict:
    (job,) = emulator.jobs("airbyte")
    return job


def test_example_dag_triggers_a_sync_then_the_sensor_watches_it(live):
    live.set_defaults("airbyte", queue_seconds=0.1, duration=0.6)

    result = run_dag("example_airbyte")

    job = only_job(live)
    assert result.task_states == {"trigger_sync": "success", "wait_for_sync": "success"}
    assert result.xcom("trigger_sync") == job["id"]
    assert result.xcom("trigger_sync", "job_url").endswith(f"/connections/{CONNECTION}/timeline")
    assert result.xcom("trigger_sync", "job_api_url").endswith(f"/v1/jobs/{job['id']}")
    final = result.xcom("wait_for_sync")
    assert (final["job_id"], final["status"], final["raw_status"]) == (job["id"], "SUCCEEDED", "succeeded")
    assert final["payload"]["rowsSynced"] > 0
    assert job["attrs"] == {"connectionId": CONNECTION, "jobType": "sync"}


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_a_sync_that_succeeds_passes_in_every_mode(live, mode, mocker):
    # Deferrable: still running at the first poke, even on a loaded machine (a dag.test() task takes ~1 s to start).
    live.script("airbyte", outcome="succeeded", queue_seconds=0.1, duration=SLOW_START if mode == "deferrable" else 0.6)
    trigger_runs = mocker.spy(JobStatusTrigger, "run")

    result = run_dag(f"airbyte_{mode}")

    assert trigger_runs.call_count == (1 if mode == "deferrable" else 0), "deferrable really defers"
    assert result.task_states == {"trigger_sync": "success", "wait_for_sync": "success"}
    assert result.xcom("wait_for_sync")["job_id"] == only_job(live)["id"]


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
@pytest.mark.parametrize("outcome", ["failed", "cancelled"])
def test_a_sync_that_fails_or_is_cancelled_fails_the_sensor(live, mode, outcome, capsys):
    live.script("airbyte", outcome=outcome, queue_seconds=0.1, duration=0.6)

    result = run_dag(f"airbyte_{mode}")

    job_id = only_job(live)["id"]
    assert result.task_states == {"trigger_sync": "success", "wait_for_sync": "failed"}
    assert result.xcom("wait_for_sync") is None
    expected = {
        "failed": f"JobFailedError: job {job_id} failed",
        "cancelled": f"JobCancelledError: job {job_id} was cancelled (raw state cancelled)",
    }[outcome]
    assert expected in capsys.readouterr().out


def test_incomplete_attempts_keep_the_sensor_waiting(live, capsys):
    """A failing Airbyte job is ``incomplete`` while it retries: RUNNING, never the end."""
    live.script("airbyte", outcome="failed", queue_seconds=0, duration=SLOW_START)

    result = run_dag("airbyte_poke")

    assert result.task_states["wait_for_sync"] == "failed"
    log = capsys.readouterr().out
    assert "RUNNING (raw: incomplete)" in log
    assert "JobFailedError" in log


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
@pytest.mark.parametrize(("outcome", "state"), [("succeeded", "success"), ("failed", "failed")])
def test_the_operator_can_wait_itself_like_a_synchronous_trigger(live, mode, outcome, state):
    live.script("airbyte", outcome=outcome, queue_seconds=0.1, duration=0.6)
    other = "0b5e7a40-3d6e-4f5a-9a8e-6f1f2b3c4d5e"

    result = run_dag(f"airbyte_operator_{mode}", {"connection_id": other})

    job = only_job(live)
    assert result.task_states == {"sync": state}
    assert job["attrs"]["connectionId"] == other
    assert result.xcom("sync", "job_id") == job["id"]
