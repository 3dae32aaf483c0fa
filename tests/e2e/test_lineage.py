"""OpenLineage on a live deployment: one run of ``e2e_lineage`` (tests/e2e/dags/e2e_lineage.py), a
deferrable TriggerJobOperator and a deferrable JobSensor per API, with the OpenLineage provider's
own file transport (one file per event, under the deployment's home).

The task processes emit the events, as in production: the events must name the same input and
output datasets as under ``dag.test()`` (tests/integration/test_lineage.py), carry the
``jobsApiJob`` run facet, validate against the OpenLineage schemas and hold no secret.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
import requests

from tests.e2e.conftest import WALL_TIMES
from tests.e2e.deployment import TOKEN, Deployment
from tests.e2e.scenario import STEP_TIMEOUT
from tests.support.polling import poll_until

pytestmark = pytest.mark.e2e
DAG_ID, RUN_ID = "e2e_lineage", "lineage"
APIS = ("tinybird", "keboola", "airbyte", "rest")
TASKS = tuple(f"{kind}_{api}" for api in APIS for kind in ("start", "watch"))
JOB_SECONDS = 4.0
"""Long enough that each trigger fires seconds after its deferral (apache/airflow#72716), short for the suite."""
AIRBYTE_CONNECTION = "e735894a-e773-4938-969f-45f53957b75b"  # as in the DAG
ACCESS_TOKEN = re.compile(r"abt_[\w-]{16}")
"""What the emulated Airbyte mints from the client credentials (emulator/airbyte/auth.py)."""


def expected(api: str, url: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(inputs, outputs) as (namespace, name), sorted: the naming of docs/lineage.md on the emulator."""
    host = url.split("://")[1]
    if api == "tinybird":
        return [("tinybird://127.0.0.1", "pipes/e2e_rollup")], [("tinybird://127.0.0.1", "datasources/e2e_rollup_copy")]
    if api == "keboola":
        namespace = f"{host}/project/7150"
        return [(namespace, "in.c-main.source_e2e-lineage")], [(namespace, "out.c-main.result_e2e-lineage")]
    if api == "rest":
        inputs = [("postgres://db.example.com:5432", "shop.public.orders")]
        return inputs, [("s3://reports-bucket", "nightly/orders.parquet")]
    from airflow_jobs_provider.emulator.airbyte.shapes import connection_json

    record = connection_json(AIRBYTE_CONNECTION)
    source = f"airbyte://127.0.0.1/sources/{record['sourceId']}"
    destination = f"airbyte://127.0.0.1/destinations/{record['destinationId']}"
    return (
        sorted([(source, "public.orders"), (source, "public.users")]),
        sorted([(destination, "orders"), (destination, "users")]),
    )


def names(datasets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((item["namespace"], item["name"]) for item in datasets)


def read_events(deployment: Deployment) -> tuple[list[dict[str, Any]], str]:
    texts = [path.read_text() for path in sorted(deployment.lineage.glob("event-*.json"))]
    return [json.loads(text) for text in texts], "\n".join(texts)


def task_events(events: list[dict[str, Any]], task_id: str | None, kind: str) -> list[dict[str, Any]]:
    """The events of one task, or of the DAG run itself (``task_id=None``), of one type."""
    job = DAG_ID if task_id is None else f"{DAG_ID}.{task_id}"
    return [e for e in events if e["job"]["name"] == job and e["eventType"] == kind]


@pytest.fixture(scope="module")
def lineage_run(deployment: Deployment) -> dict[str, Any]:
    """Run the DAG once; wait until every task's COMPLETE event is on disk. Its events, their text, the XComs."""
    started = time.monotonic()
    emulator = deployment.emulator
    assert emulator is not None
    emulator.reset()
    for api in ("tinybird", "keboola", "airbyte", "acme"):
        emulator.set_defaults(api, queue_seconds=0.2, duration=JOB_SECONDS)
    poll_until(lambda: deployment.api.dag_is_loaded(DAG_ID), timeout=STEP_TIMEOUT, interval=0.5, what=f"{DAG_ID}")
    deployment.api.trigger(DAG_ID, RUN_ID)
    state = deployment.api.wait_for_run(DAG_ID, RUN_ID, timeout=STEP_TIMEOUT)
    assert state == "success", deployment.api.task_states(DAG_ID, RUN_ID)

    def complete() -> tuple[list[dict[str, Any]], str] | None:
        events, text = read_events(deployment)
        return (events, text) if all(task_events(events, task, "COMPLETE") for task in (*TASKS, None)) else None

    events, text = poll_until(complete, timeout=30, interval=0.5, what="a COMPLETE event of every task and the run")
    keys = ("job_id", "job_url", "job_api_url")
    xcoms = {api: {key: deployment.api.xcom(DAG_ID, RUN_ID, f"start_{api}", key) for key in keys} for api in APIS}
    tokens = requests.get(f"{emulator.url}/_emulator/airbyte/tokens", timeout=10).json()
    WALL_TIMES.append((f"{DAG_ID}: one run of {len(TASKS)} tasks and their events", time.monotonic() - started))
    return {"events": events, "text": text, "xcoms": xcoms, "url": emulator.url, "airbyte_tokens": tokens}


@pytest.mark.parametrize("task_id", TASKS)
def test_each_task_emits_start_and_complete_naming_its_jobs_datasets(lineage_run, task_id):
    events = lineage_run["events"]
    api = task_id.split("_", 1)[1]
    assert task_events(events, task_id, "START"), f"no START event of {task_id}"
    (complete,) = task_events(events, task_id, "COMPLETE")
    assert (names(complete["inputs"]), names(complete["outputs"])) == expected(api, lineage_run["url"])
    facet = complete["run"]["facets"]["jobsApiJob"]
    xcoms = lineage_run["xcoms"][api]
    assert facet["api"] == api
    assert facet["jobId"] == xcoms["job_id"] and facet["status"] == "SUCCEEDED"
    assert facet["jobApiUrl"] == xcoms["job_api_url"]
    assert facet.get("jobUrl") == (xcoms["job_url"] or None)
    # A deferring operator's resumed try emits START again, under the same OpenLineage run as its COMPLETE.
    runs = {event["run"]["runId"] for kind in ("START", "COMPLETE") for event in task_events(events, task_id, kind)}
    assert runs == {complete["run"]["runId"]}
    (dag_run,) = task_events(events, None, "COMPLETE")
    assert complete["run"]["facets"]["parent"]["run"]["runId"] == dag_run["run"]["runId"]


def test_the_tinybird_start_event_names_the_pipe_before_the_job_exists(lineage_run):
    """A copy's target data source is in its job answer only: the START event names the pipe alone."""
    first = task_events(lineage_run["events"], "start_tinybird", "START")[0]
    assert (names(first["inputs"]), names(first["outputs"])) == ([("tinybird://127.0.0.1", "pipes/e2e_rollup")], [])


def test_every_event_validates_against_the_openlineage_schemas(lineage_run):
    from tests.support.openlineage_schema import EventValidator

    validator = EventValidator()
    problems = [(event["job"]["name"], event["eventType"], validator.errors(event)) for event in lineage_run["events"]]
    assert [problem for problem in problems if problem[2]] == []
    assert {event["job"]["namespace"] for event in lineage_run["events"]} == {"jobs-provider-e2e"}


def test_no_secret_reaches_a_lineage_event(lineage_run):
    assert lineage_run["airbyte_tokens"]["issued"] >= 1, "the Airbyte tasks minted access tokens"
    text = lineage_run["text"]
    leaks = [what for what, found in (("token", TOKEN in text), ("Airbyte access token", ACCESS_TOKEN.search(text)))
             if found]  # fmt: skip
    assert leaks == []
