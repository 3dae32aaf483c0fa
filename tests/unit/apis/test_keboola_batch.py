"""Keboola's batch read (``get_jobs``): one /search/jobs for many ids, each job's answer on its own."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_jobs_provider.apis.exchange import Response
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.keboola import KeboolaApi
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.exceptions import JobsApiError

API = KeboolaApi(ApiSettings(conn_id="kbc", api="keboola", base_url="https://queue.keboola.com", token="t"))


def test_the_batch_request_is_one_search_for_exactly_those_ids():
    request = API.get_jobs_request(["11", "12", "13"])

    query = parse_qs(urlsplit(request.url("https://q")).query)
    assert request.method == "GET" and request.path == "/search/jobs"
    assert query == {"id[]": ["11", "12", "13"], "limit": ["3"]}
    assert request.headers == {"X-StorageApi-Token": "t"}
    assert KeboolaApi.supports_batch_get and KeboolaApi.batch_size == 100


def test_each_job_gets_its_own_answer_and_absent_ones_stay_absent():
    body = [
        {"id": 11, "status": "success", "isFinished": True},
        {"id": "12", "isFinished": False},  # no status: an error for job 12 only
        {"id": "99", "status": "processing", "isFinished": False},  # not asked for
        "not an object",
    ]

    found = API.parse_jobs(Response(200, body), ["11", "12", "13"])

    assert set(found) == {"11", "12"}  # 13 is left out: the poller reads it alone
    assert isinstance(found["11"], Job) and found["11"].status is JobStatus.SUCCEEDED
    assert isinstance(found["12"], JobsApiError)


def test_an_answer_that_is_not_a_list_fails_the_whole_batch():
    with pytest.raises(JobsApiError, match="did not answer with a JSON array"):
        API.parse_jobs(Response(200, {"error": "?"}), ["11"])
