"""Event-driven DAGs on a live deployment: the consumer runs once per job the producer started.

``example_event_consumer`` is scheduled on an asset that a ``JobEventTrigger`` watches in the
triggerer. ``example_event_producer`` starts three Tinybird copy jobs, which the emulator ends a
few seconds apart, so each asset event gets a consumer run of its own. The second test kills
the triggerer between two jobs. The job that ends while no triggerer runs is reported by the
next one, and no job is reported twice, because the watcher's cursor is in the asset state store.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.deployment import Deployment
from tests.e2e.scenario import STEP_TIMEOUT
from tests.support.polling import poll_until

pytestmark = pytest.mark.e2e
PRODUCER, CONSUMER = "example_event_producer", "example_event_consumer"
ASSET = "tinybird_sales_rollup_copied"
WATCHED_LIST = "/v0/jobs?kind=copy&pipe_name=sales_rollup"
REGISTER_TIMEOUT = 180.0
"""Seconds for the watcher to start after the consumer is unpaused: the DAG file is parsed again first."""


def consumer_runs(deployment: Deployment) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = deployment.api.call("GET", f"/dags/{CONSUMER}/dagRuns?order_by=id")["dag_runs"]
    return runs


def reported_jobs(deployment: Deployment) -> list[list[str]]:
    """The job ids each finished consumer run printed and returned, one list per run."""
    return [
        [job["job_id"] for job in deployment.api.xcom(CONSUMER, run["dag_run_id"], "report_copy")]
        for run in consumer_runs(deployment)
        if run["state"] == "success"
    ]


def wait_for_consumer_runs(deployment: Deployment, count: int) -> list[list[str]]:
    def finished() -> list[list[str]] | None:
        runs = consumer_runs(deployment)
        failed = [run["dag_run_id"] for run in runs if run["state"] == "failed"]
        assert not failed, f"consumer runs failed: {failed}"
        done = [run for run in runs if run["state"] == "success"]
        return reported_jobs(deployment) if len(done) >= count and len(done) == len(runs) else None

    return poll_until(finished, timeout=STEP_TIMEOUT, interval=0.5, what=f"{count} finished {CONSUMER} runs")


def committed_job_ids(deployment: Deployment) -> set[str]:
    """The job ids the watcher's cursor in the asset state store holds as handled."""
    (asset,) = deployment.api.call("GET", f"/assets?name_pattern={ASSET}")["assets"]
    entries = deployment.api.call("GET", f"/assets/{asset['id']}/state-store")["asset_state_store"]
    return {job_id for entry in entries for job_id, _ in entry["value"].get("done", [])}


def list_polls(deployment: Deployment) -> int:
    assert deployment.emulator is not None
    return sum(1 for entry in deployment.emulator.requests() if entry["path"] == WATCHED_LIST)


@pytest.fixture
def watching(deployment: Deployment) -> Iterator[None]:
    """Unpause the consumer, have its file parsed again, and wait until its watcher polls the emulator."""
    assert deployment.emulator is not None
    deployment.emulator.reset()
    for dag_id in (PRODUCER, CONSUMER):
        poll_until(
            lambda dag_id=dag_id: deployment.api.dag_is_loaded(dag_id),
            timeout=STEP_TIMEOUT,
            interval=0.5,
            what=f"{dag_id} to be parsed",
        )
    deployment.api.call("PATCH", f"/dags/{CONSUMER}", {"is_paused": False})
    file_token = deployment.api.call("GET", f"/dags/{CONSUMER}")["file_token"]
    deployment.api.call("PUT", f"/parseDagFile/{file_token}", ok=(201,))
    poll_until(
        lambda: list_polls(deployment) >= 2,
        timeout=REGISTER_TIMEOUT,
        interval=0.5,
        what="the consumer's watcher to poll the job list",
    )
    yield
    deployment.api.call("PATCH", f"/dags/{CONSUMER}", {"is_paused": True})


@pytest.fixture
def triggerer_comes_back(deployment: Deployment) -> Iterator[None]:
    yield
    if not deployment.components["triggerer"].running:
        deployment.restart("triggerer")


def start_copies(deployment: Deployment, run_id: str, durations: tuple[float, ...]) -> list[str]:
    """Script the emulator so the three copies end ``durations`` seconds after they start, then run the producer."""
    assert deployment.emulator is not None
    for duration in durations:
        deployment.emulator.script("tinybird", duration=duration, queue_seconds=0.1)
    deployment.api.trigger(PRODUCER, run_id)
    assert deployment.api.wait_for_run(PRODUCER, run_id) == "success"
    return [deployment.api.xcom(PRODUCER, run_id, f"start_copy_{number}", "job_id") for number in (1, 2, 3)]


def test_the_consumer_runs_once_per_finished_job(deployment, watching):
    before = len(consumer_runs(deployment))
    started = start_copies(deployment, "three-copies", durations=(3, 10, 17))

    reports = wait_for_consumer_runs(deployment, before + 3)[before:]

    assert sorted(job_id for report in reports for job_id in report) == sorted(started)
    assert all(len(report) == 1 for report in reports), f"one run per job: {reports}"
    polls = list_polls(deployment)
    poll_until(lambda: list_polls(deployment) >= polls + 3, timeout=STEP_TIMEOUT, interval=0.5, what="three more polls")
    assert len(consumer_runs(deployment)) == before + 3, "no job is reported twice"


def test_a_triggerer_restart_neither_repeats_nor_misses_a_job(deployment, watching, triggerer_comes_back):
    before = len(consumer_runs(deployment))
    first, during_outage, after = start_copies(deployment, "copies-across-a-restart", durations=(3, 25, 60))
    wait_for_consumer_runs(deployment, before + 1)
    poll_until(
        lambda: first in committed_job_ids(deployment),
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what="the first report to be committed",
    )

    deployment.components["triggerer"].kill_hard()
    assert deployment.emulator is not None
    poll_until(
        lambda: any(job["id"] == during_outage and job["raw_status"] == "done" for job in deployment.emulator.jobs()),
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what="the second copy to end while no triggerer runs",
    )
    deployment.restart("triggerer")

    reports = wait_for_consumer_runs(deployment, before + 3)[before:]
    # The API lists runs in its own order, not by creation: compare as multisets (a duplicate still fails).
    assert sorted(job_id for report in reports for job_id in report) == sorted([first, during_outage, after])
    polls = list_polls(deployment)
    poll_until(lambda: list_polls(deployment) >= polls + 3, timeout=STEP_TIMEOUT, interval=0.5, what="three more polls")
    assert len(consumer_runs(deployment)) == before + 3, "the job reported before the restart is not repeated"
