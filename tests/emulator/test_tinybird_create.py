"""Endpoints that start Tinybird jobs answer with the creation shape of job-apis.md §1.6."""

from __future__ import annotations

import pytest

from airflow_jobs_provider.emulator import EmulatorServer
from tests.support.emulator_http import Tinybird

CREATIONS = [
    ("/v0/pipes/sales/copy", {"_mode": "replace", "day": "2024-01-01"}, "copy"),
    ("/v0/pipes/exports/sink", {"bucket": "b"}, "sink"),
    ("/v0/pipes/mv_pipe/nodes/mv_node/population", {"truncate": "true"}, "populateview"),
    ("/v0/datasources", {"name": "events", "mode": "append", "url": "https://example.com/e.csv"}, "import"),
]


@pytest.mark.parametrize(("path", "params", "kind"), CREATIONS, ids=[kind for *_, kind in CREATIONS])
def test_creation_returns_ids_url_and_a_waiting_job(
    tinybird: Tinybird, path: str, params: dict[str, str], kind: str
) -> None:
    response = tinybird.post(path, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    job_id = body["id"]
    url = f"{tinybird.url}/v0/jobs/{job_id}"
    assert (body["job_id"], body["job_url"], body["status"]) == (job_id, url, "waiting")
    job = body["job"]
    assert (job["id"], job["job_id"], job["job_url"], job["kind"]) == (job_id, job_id, url, kind)
    assert (job["status"], job["is_cancellable"], job["started_at"]) == ("waiting", True, None)
    assert ("import_id" in body) == (kind == "import")
    assert tinybird.get(f"/v0/jobs/{job_id}").status_code == 200


def test_copy_job_records_mode_pipe_and_template_params(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    job = tinybird.copy("sales", _mode="append", day="2024-01-01")["job"]
    assert job["mode"] == "append"
    assert job["pipe_name"] == "sales" and job["pipe_id"].startswith("t_")
    assert job["pipe_id"] == tinybird.copy("sales")["job"]["pipe_id"], "pipe ids are stable per name"
    assert job["datasource"]["id"].startswith("t_")
    assert emulator.jobs("tinybird")[0]["attrs"]["parameters"] == {"day": "2024-01-01"}


def test_populate_job_has_query_fields_and_progress(tinybird: Tinybird) -> None:
    job = tinybird.populate(populate_condition="day > 1", populate_subset="0.1", truncate="false")["job"]
    assert job["query_id"] == job["queries"][0]["query_id"]
    assert [query["status"] for query in job["queries"]] == ["waiting"] * 3
    assert (job["populate_condition"], job["populate_subset"], job["progress_percentage"]) == ("day > 1", 0.1, 0.0)


def test_import_job_has_import_fields(tinybird: Tinybird) -> None:
    body = tinybird.post("/v0/datasources", name="events", url="https://example.com/e.csv").json()
    job = body["job"]
    assert body["import_id"] == job["import_id"] == body["id"]
    assert (job["mode"], job["url"], job["datasource"]["name"]) == ("create", "https://example.com/e.csv", "events")
    assert (job["statistics"], job["quarantine_rows"], job["invalid_lines"]) == (None, 0, 0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"url": "https://example.com/e.csv"}, "'name' parameter is required"),
        ({"name": "events"}, "'url' parameter is required"),
        ({"name": "events", "url": "https://x/e.csv", "mode": "upsert"}, "Invalid mode 'upsert'"),
        ({"name": "events", "url": "https://x/e.csv", "format": "xml"}, "Invalid format 'xml'"),
    ],
)
def test_bad_import_requests_get_400_in_tinybird_shape(
    tinybird: Tinybird, params: dict[str, str], message: str
) -> None:
    response = tinybird.post("/v0/datasources", **params)
    assert response.status_code == 400
    body = response.json()
    assert message in body["error"] and body["documentation"].startswith("https://docs.tinybird.co/")


def test_bad_copy_mode_and_subset_get_400(tinybird: Tinybird) -> None:
    assert "Invalid _mode 'merge'" in tinybird.post("/v0/pipes/p/copy", _mode="merge").json()["error"]
    response = tinybird.post("/v0/pipes/p/nodes/n/population", populate_subset="lots")
    assert response.status_code == 400 and "populate_subset" in response.json()["error"]
