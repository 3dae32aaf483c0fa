"""``/v0/sql`` on ``tinybird.jobs_log``: every job, expired ones included, in ClickHouse JSON."""

from __future__ import annotations

import json
from typing import Any

from airflow_jobs_provider.emulator import EmulatorServer
from tests.support.emulator_http import Tinybird


def _sql(tinybird: Tinybird, sql: str) -> dict[str, Any]:
    response = tinybird.get("/v0/sql", q=sql)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_expired_job_is_gone_from_the_api_but_answered_by_jobs_log(
    tinybird: Tinybird, emulator: EmulatorServer
) -> None:
    emulator.script("tinybird", outcome="failed", error="Too many parts", queue_seconds=0, duration=0)
    job_id = tinybird.copy("sales", _mode="append")["id"]
    emulator.expire("tinybird", job_id)
    assert tinybird.get(f"/v0/jobs/{job_id}").status_code == 404

    answer = _sql(tinybird, f"SELECT * FROM tinybird.jobs_log WHERE job_id = '{job_id}' FORMAT JSON")
    assert answer["rows"] == 1
    [row] = answer["data"]
    assert (row["job_id"], row["job_type"], row["status"], row["error"]) == (job_id, "copy", "error", "Too many parts")
    assert (row["pipe_name"], row["datasource_name"]) == ("sales", "sales_copy")
    assert len(row["created_at"]) == len("2024-07-22 11:47:58") and row["started_at"] is not None
    assert json.loads(row["job_metadata"]) == {"mode": "append", "execution_type": "manual", "parameters": {}}
    assert [column["name"] for column in answer["meta"]][:3] == ["job_id", "job_type", "status"]
    assert set(answer["statistics"]) == {"elapsed", "rows_read", "bytes_read"}


def test_post_with_form_or_raw_body_works_like_get(tinybird: Tinybird) -> None:
    job_id = tinybird.copy()["id"]
    sql = f"SELECT job_id FROM tinybird.jobs_log WHERE job_id='{job_id}' FORMAT JSON"
    form = tinybird.session.post(f"{tinybird.url}/v0/sql", params={"token": tinybird.token}, data={"q": sql})
    raw = tinybird.session.post(f"{tinybird.url}/v0/sql", params={"token": tinybird.token}, data=sql.encode())
    assert form.json()["data"] == raw.json()["data"] == [{"job_id": job_id}]


def test_unparseable_sql_is_a_400_naming_the_problem(tinybird: Tinybird) -> None:
    response = tinybird.get("/v0/sql", q="SELECT * FROM tinybird.jobs_log")
    assert response.status_code == 400
    body = response.json()
    assert "FORMAT JSON" in body["error"]
    assert body["documentation"].startswith("https://docs.tinybird.co/")
    assert "empty" in tinybird.get("/v0/sql").json()["error"]
