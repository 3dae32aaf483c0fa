"""``GET /v0/jobs``: newest first, filters, 100 max, ISO 8601 dates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_jobs_provider.emulator import EmulatorServer
from tests.support.emulator_http import Tinybird


def _ids(tinybird: Tinybird, path: str = "/v0/jobs", **params: str) -> list[str]:
    response = tinybird.get(path, **params)
    assert response.status_code == 200, response.text
    return [job["id"] for job in response.json()["jobs"]]


def test_list_is_newest_first_with_the_public_shape(tinybird: Tinybird) -> None:
    first, second = tinybird.copy("a")["id"], tinybird.populate("b")["id"]
    jobs = tinybird.get("/v0/jobs").json()["jobs"]
    assert [job["id"] for job in jobs] == [second, first]
    assert set(jobs[1]) == {
        "id", "kind", "status", "created_at", "updated_at", "is_cancellable", "job_url", "datasource",
        "pipe_id", "pipe_name",
    }  # fmt: skip
    assert jobs[1]["job_url"] == f"{tinybird.url}/v0/jobs/{first}"


def test_trailing_slash_is_optional(tinybird: Tinybird) -> None:
    job_id = tinybird.copy()["id"]
    assert _ids(tinybird, "/v0/jobs/") == _ids(tinybird, "/v0/jobs") == [job_id]


def test_filters_by_kind_status_and_pipe(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    emulator.set_defaults("tinybird", queue_seconds=0, duration=0)
    emulator.script("tinybird", queue_seconds=30)
    waiting_copy = tinybird.copy("sales")["id"]
    populate = tinybird.populate("mv")["id"]
    other_copy = tinybird.copy("other")["id"]
    pipe_id = tinybird.job(waiting_copy)["pipe_id"]
    assert _ids(tinybird, kind="copy") == [other_copy, waiting_copy]
    assert _ids(tinybird, kind="populateview") == [populate]
    assert _ids(tinybird, status="waiting") == [waiting_copy]
    assert _ids(tinybird, pipe_name="other") == [other_copy]
    assert _ids(tinybird, pipe_id=pipe_id) == [waiting_copy]
    assert _ids(tinybird, kind="copy", status="done") == [other_copy]
    assert _ids(tinybird, kind="sink") == []


def test_created_after_and_before_filter_on_creation_time(tinybird: Tinybird) -> None:
    job_id = tinybird.copy()["id"]
    now = datetime.now(timezone.utc)
    hour_ago = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    in_an_hour = (now + timedelta(hours=1)).isoformat()
    assert _ids(tinybird, created_after=hour_ago) == [job_id]
    assert _ids(tinybird, created_before=hour_ago) == []
    assert _ids(tinybird, created_after=in_an_hour) == []
    assert _ids(tinybird, created_after=hour_ago, created_before=in_an_hour) == [job_id]


@pytest.mark.parametrize("param", ["created_after", "created_before"])
def test_bad_date_is_a_400(tinybird: Tinybird, param: str) -> None:
    response = tinybird.get("/v0/jobs", **{param: "yesterday"})
    assert response.status_code == 400
    assert response.json()["error"].startswith("The date provided is an invalid isoformat string")


def test_list_stops_at_100_jobs(tinybird: Tinybird) -> None:
    created = [tinybird.copy()["id"] for _ in range(102)]
    assert _ids(tinybird) == created[::-1][:100]


def test_expired_jobs_leave_the_list(tinybird: Tinybird, emulator: EmulatorServer) -> None:
    kept, gone = tinybird.copy()["id"], tinybird.copy()["id"]
    emulator.expire("tinybird", gone)
    assert _ids(tinybird) == [kept]
    assert tinybird.get(f"/v0/jobs/{gone}").status_code == 404
