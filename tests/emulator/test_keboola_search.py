"""The emulated ``GET /search/jobs``: a bare array, multi-value filters in every form, sort, paging."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_jobs_provider.emulator import EmulatorServer


@pytest.fixture
def http(emulator: EmulatorServer, session: requests.Session) -> requests.Session:
    session.headers["X-StorageApi-Token"] = emulator.token
    return session


@pytest.fixture
def jobs(emulator: EmulatorServer, http: requests.Session) -> list[dict[str, Any]]:
    """Three jobs: two of component a (configs 1 and 2, the second in branch 7), one of b; all queued."""
    emulator.set_defaults("keboola", queue_seconds=30)
    bodies = [
        {"component": "a", "config": "1", "configRowIds": ["r1"]},
        {"component": "a", "config": "2", "branchId": "7", "mode": "debug"},
        {"component": "b", "configData": {"parameters": {}}},
    ]
    created = [http.post(f"{emulator.url}/jobs", json=body).json() for body in bodies]
    emulator.force_state("keboola", created[2]["id"], "success")
    return created


def search(emulator: EmulatorServer, http: requests.Session, query: str = "") -> list[str]:
    response = http.get(f"{emulator.url}/search/jobs{'?' + query if query else ''}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list), "the search answers a bare array"
    return [job["id"] for job in body]


def test_no_filter_lists_every_job_newest_first(emulator, http, jobs):
    assert search(emulator, http) == [job["id"] for job in reversed(jobs)]


@pytest.mark.parametrize(
    "query",
    ["status[]=created&status[]=waiting", "status[0]=created&status[1]=waiting", "status=created&status=waiting"],
    ids=["brackets", "indexed", "repeated"],
)
def test_multi_value_filters_in_every_form(emulator, http, jobs, query):
    assert search(emulator, http, query) == [jobs[1]["id"], jobs[0]["id"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("componentId[]=a&configId[]=2", [1]),
        ("component=b", [2]),  # the deprecated name
        ("config[]=1", [0]),
        ("branchId[]=null", [2, 0]),  # null = main branch
        ("branchId[]=7", [1]),
        ("mode[]=debug", [1]),
        ("configRowIds[]=r1&configRowIds[]=r9", [0]),
        ("tokenDescription[]=jobs-emulator&status[]=success", [2]),
        ("componentId[]=zzz", []),
        ("type=standard&limit=1", [2]),
    ],
)
def test_filters_select_jobs(emulator, http, jobs, query, expected):
    assert search(emulator, http, query) == [jobs[index]["id"] for index in expected]


def test_id_and_run_id_filters(emulator, http, jobs):
    ids = [job["id"] for job in jobs]
    assert search(emulator, http, f"id[]={ids[0]}&id[]={ids[2]}") == [ids[2], ids[0]]
    assert search(emulator, http, f"runId[]={jobs[1]['runId']}") == [ids[1]]


def test_offset_limit_and_sort(emulator, http, jobs):
    ids = [job["id"] for job in jobs]
    assert search(emulator, http, "sortOrder=asc") == ids
    assert search(emulator, http, "sortOrder=asc&offset=1&limit=1") == [ids[1]]
    assert search(emulator, http, "sortBy=componentId&sortOrder=asc&limit=2") in ([ids[0], ids[1]], [ids[1], ids[0]])
    assert search(emulator, http, "offset=5") == []


def test_time_and_duration_ranges(emulator, http, jobs):
    created = jobs[0]["createdTime"]
    assert len(search(emulator, http, f"createdTimeFrom={created.replace('+', '%2B')}")) == 3
    assert search(emulator, http, "createdTimeTo=2000-01-01T00:00:00Z") == []
    assert len(search(emulator, http, "durationSecondsFrom=0&durationSecondsTo=10")) == 3


@pytest.mark.parametrize(
    "query",
    ["kind=copy", "limit=-1", "offset=x", "sortBy=colour", "sortOrder=up", "limit[]=1", "createdTimeFrom=-8 hours"],
)
def test_bad_search_parameters_are_a_400_in_keboolas_shape(emulator, http, jobs, query):
    response = http.get(f"{emulator.url}/search/jobs?{query}")
    assert response.status_code == 400
    assert set(response.json()) == {"error", "code", "status", "exceptionId", "context"}
