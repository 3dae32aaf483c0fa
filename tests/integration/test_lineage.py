"""OpenLineage as a lineage backend sees it: each API's DAG runs under dag.test() with the
OpenLineage provider's own file transport; every event validates against the OpenLineage
schemas, names the job's input and output datasets, carries the jobsApiJob run facet, and holds
no secret. The "Job" button's XComs of the same runs: the vendor's UI page, served by the emulator.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import TOKEN
from tests.support.lineage_run import DAGS
from tests.support.openlineage_schema import EventValidator

pytest.importorskip("airflow.providers.openlineage", reason="the [openlineage] extra is not installed")
pytestmark = pytest.mark.usefixtures("airflow_db")

SECRETS = ("hunter2", "abc123", "t0k3n", TOKEN)
"""The import URL's password, signature and token, and the connections' token."""


def task_events(lineage_runs: dict[str, Any], dag_id: str, task_id: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in lineage_runs["events"] if e["job"]["name"] == f"{dag_id}.{task_id}" and e["eventType"] == kind]


def names(datasets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((item["namespace"], item["name"]) for item in datasets)


def test_every_run_succeeds_and_every_event_validates_against_the_openlineage_schemas(lineage_runs):
    assert {dag: result["state"] for dag, result in lineage_runs["results"].items()} == dict.fromkeys(DAGS, "success")
    assert lineage_runs["events"], "the OpenLineage provider wrote events through its file transport"
    validator = EventValidator()
    problems = [(event["job"]["name"], event["eventType"], validator.errors(event)) for event in lineage_runs["events"]]
    assert [problem for problem in problems if problem[2]] == []


def test_no_secret_reaches_a_lineage_event(lineage_runs):
    assert [secret for secret in SECRETS if secret in lineage_runs["text"]] == []


EMULATOR_HOST = "127.0.0.1"
EXPECTED = {
    "lineage_tinybird_copy": (
        [(f"tinybird://{EMULATOR_HOST}", "pipes/daily_rollup")],
        [(f"tinybird://{EMULATOR_HOST}", "datasources/daily_rollup_copy")],
    ),
    "lineage_tinybird_import": (
        [("https://files.example.com", "exports/events.csv")],
        [(f"tinybird://{EMULATOR_HOST}", "datasources/events")],
    ),
    "lineage_rest": (
        [("postgres://db.example.com:5432", "shop.public.orders")],
        [("s3://reports-bucket", "nightly/orders.parquet")],
    ),
}


def expected(lineage_runs: dict[str, Any], dag_id: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    if dag_id in EXPECTED:
        inputs, outputs = EXPECTED[dag_id]
        return sorted(inputs), sorted(outputs)
    if dag_id == "lineage_keboola":
        namespace = f"{lineage_runs['url'].split('://')[1]}/project/7150"
        return [(namespace, "in.c-main.source_554424643")], [(namespace, "out.c-main.result_554424643")]
    from airflow_jobs_provider.emulator.airbyte.shapes import connection_json

    record = connection_json("e735894a-e773-4938-969f-45f53957b75b")
    source = f"airbyte://{EMULATOR_HOST}/sources/{record['sourceId']}"
    destination = f"airbyte://{EMULATOR_HOST}/destinations/{record['destinationId']}"
    return (
        sorted([(source, "public.users"), (source, "public.orders")]),
        sorted([(destination, "users"), (destination, "orders")]),
    )


@pytest.mark.parametrize("dag_id", DAGS)
@pytest.mark.parametrize("task_id", ["start", "watch"])
def test_the_complete_events_name_the_jobs_inputs_and_outputs(lineage_runs, dag_id, task_id):
    (event,) = task_events(lineage_runs, dag_id, task_id, "COMPLETE")
    inputs, outputs = expected(lineage_runs, dag_id)
    assert (names(event["inputs"]), names(event["outputs"])) == (inputs, outputs)
    facet = event["run"]["facets"]["jobsApiJob"]
    xcoms = lineage_runs["results"][dag_id]["xcoms"]
    assert facet["jobId"] == xcoms["start/job_id"]
    assert facet["status"] == "SUCCEEDED"
    assert facet["jobApiUrl"] == xcoms["start/job_api_url"]
    assert facet.get("jobUrl") == (xcoms["start/job_url"] or None)


def test_the_operator_start_event_names_what_a_tinybird_spec_tells_before_the_job_exists(lineage_runs):
    (event,) = task_events(lineage_runs, "lineage_tinybird_import", "start", "START")
    assert names(event["inputs"]) == [("https://files.example.com", "exports/events.csv")]
    assert names(event["outputs"]) == [(f"tinybird://{EMULATOR_HOST}", "datasources/events")]


PAGES = {
    "lineage_keboola": "/admin/projects/7150/queue/",
    "lineage_airbyte": "/workspaces/",
    "lineage_rest": "/acme/ui/runs/",
}


@pytest.mark.parametrize("dag_id", sorted(PAGES))
def test_the_job_button_opens_the_vendors_page_which_the_emulator_serves(lineage_runs, dag_id):
    xcoms = lineage_runs["results"][dag_id]["xcoms"]
    page = xcoms["start/job_url"]
    assert page.startswith(lineage_runs["url"]) and PAGES[dag_id] in page
    answer = requests.get(page, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    assert 'class=state>' in answer.text
    assert xcoms["start/job_api_url"] != page and xcoms["start/job_id"] in xcoms["start/job_api_url"]


def test_tinybird_shows_no_button_and_keeps_the_api_resource(lineage_runs):
    xcoms = lineage_runs["results"]["lineage_tinybird_copy"]["xcoms"]
    assert xcoms["start/job_url"] == ""
    assert xcoms["start/job_api_url"] == f"{lineage_runs['url']}/v0/jobs/{xcoms['start/job_id']}"
