"""Job links are untrusted input: only safe http(s) URLs become buttons, each API builds its page honestly."""

from __future__ import annotations

import pytest

from airflow_jobs_provider.apis.airbyte.api import AirbyteApi
from airflow_jobs_provider.apis.exchange import Response
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.keboola import KeboolaApi
from airflow_jobs_provider.apis.links import UnsafeUrlError, checked_url, strip_secrets
from airflow_jobs_provider.apis.rest import RestApi
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.tinybird import TinybirdApi
from tests.support.api_settings import ACME_EXTRAS, acme_settings, tinybird_settings
from tests.support.scripted import Script

CONNECTION = "e735894a-e773-4938-969f-45f53957b75b"
WORKSPACE = "5ae6b09b-fdec-41af-aaf7-7d94cfc33ef6"

BAD_URLS = [
    ("javascript:alert(document.cookie)", "scheme"),
    ("data:text/html,<script>alert(1)</script>", "scheme"),
    ("https://user:pass@acme.example/runs/1", "credentials"),
    ("https://acme.example/runs/1\r\nSet-Cookie: x", "control"),
    ("https://acme.example/runs/1?token=abc", "secret"),
    ("https://acme.example\\@evil.test/", "backslash"),
    ("//evil.test/runs/1", "scheme"),
    ("https:///runs/1", "host"),
    (42, "not a URL"),
]


@pytest.mark.parametrize(("url", "why"), BAD_URLS, ids=[why for _, why in BAD_URLS])
def test_unsafe_urls_are_refused(url, why):
    with pytest.raises(UnsafeUrlError):
        checked_url(url, "the answer's url")


def test_a_url_on_another_host_is_refused_where_the_vendor_host_is_known():
    assert checked_url("https://api.tinybird.co/v0/jobs/1", "x", {"api.tinybird.co"})
    with pytest.raises(UnsafeUrlError, match=r"evil\.test"):
        checked_url("https://evil.test/v0/jobs/1", "x", {"api.tinybird.co"})


def test_strip_secrets_keeps_scheme_host_and_path_only():
    url = "https://reader:hunter2@Files.Example.com:8443/exports/e.csv?X-Amz-Signature=abc#frag"
    assert strip_secrets(url) == "https://files.example.com:8443/exports/e.csv"


def job(job_id: str, url: str | None = None, **payload: object) -> Job:
    return Job(job_id, JobStatus.SUCCEEDED, "done", url=url, payload=dict(payload))


def test_tinybird_has_no_page_and_keeps_the_api_resource_on_its_host():
    api = TinybirdApi(tinybird_settings())
    links = Script().run(api.job_links(job("abc", "https://evil.test/v0/jobs/abc")))
    assert links.page is None
    assert links.api == "https://api.tinybird.co/v0/jobs/abc"
    assert links.problems and "evil.test" in links.problems[0]


def keboola(extras: dict | None = None, host: str = "https://queue.eu-central-1.keboola.com") -> KeboolaApi:
    return KeboolaApi(ApiSettings("kbc", "keboola", host, token="t", extras={"api": "keboola", **(extras or {})}))


def test_keboola_page_is_on_the_storage_host_the_queue_host_implies():
    body = {"id": "42", "status": "success", "project": {"id": "7150"}, "branchId": "1234"}
    links = Script(Response(200, body)).run(keboola().job_links(job("42")))
    assert links.page == "https://connection.eu-central-1.keboola.com/admin/projects/7150/branch/1234/queue/42"
    assert links.api == "https://queue.eu-central-1.keboola.com/jobs/42"


def test_keboola_without_a_queue_host_or_ui_url_has_no_page():
    links = Script().run(keboola(host="https://proxy.example/keboola").job_links(job("42")))
    assert (links.page, links.api) == (None, "https://proxy.example/keboola/jobs/42")


def test_keboola_refuses_a_project_id_that_is_not_a_number():
    body = {"id": "42", "status": "success", "project": {"id": "../../evil"}}
    links = Script(Response(200, body)).run(keboola().job_links(job("42")))
    assert links.page is None and "project" in links.problems[0]


def test_keboola_lineage_falls_back_to_the_result_tables_when_the_stack_has_no_lineage_endpoint():
    body = {
        "id": "42", "status": "success", "project": {"id": "7150"}, "durationSeconds": 12,
        "result": {"input": {"tables": [{"id": "in.c-main.orders"}]}, "output": {"tables": [{"id": "out.c-x.y"}]}},
        "metrics": {"storage": {"inputTablesBytesSum": 10, "outputTablesBytesSum": 20}},
    }  # fmt: skip
    script = Script(Response(404, {"error": "not found"}), Response(200, body))
    found = script.run(keboola().job_lineage(job("42")))
    namespace = "connection.eu-central-1.keboola.com/project/7150"
    assert [(d.namespace, d.name) for d in found.inputs] == [(namespace, "in.c-main.orders")]
    assert [(d.namespace, d.name) for d in found.outputs] == [(namespace, "out.c-x.y")]
    assert found.statistics == {"inputTablesBytesSum": 10, "outputTablesBytesSum": 20, "durationSeconds": 12}
    assert script.requests[0].path == "/jobs/42/open-api-lineage"


def airbyte(host: str) -> AirbyteApi:
    extras = {"api": "airbyte", "auth": "bearer"}
    return AirbyteApi(ApiSettings("ab", "airbyte", host, token="tok", extras=extras))


@pytest.mark.parametrize(
    ("host", "web"),
    [("https://api.airbyte.com/v1", "https://cloud.airbyte.com"), ("http://ab:8000/api/public/v1", "http://ab:8000")],
)
def test_airbyte_page_is_the_connection_timeline_of_its_workspace(host, web):
    api = airbyte(host)
    record = {"connectionId": CONNECTION, "workspaceId": WORKSPACE, "sourceId": WORKSPACE, "destinationId": WORKSPACE}
    script = Script(Response(200, record))
    links = script.run(api.job_links(job("7", connectionId=CONNECTION)))
    assert links.page == f"{web}/workspaces/{WORKSPACE}/connections/{CONNECTION}/timeline"
    assert links.api == f"{host}/jobs/7"
    again = Script().run(api.job_links(job("8", connectionId=CONNECTION)))  # the record is read once per adapter
    assert again.page == links.page


def test_airbyte_refuses_a_workspace_that_is_not_a_uuid():
    record = {"workspaceId": "../../admin"}
    api = airbyte("https://api.airbyte.com/v1")
    links = Script(Response(200, record)).run(api.job_links(job("7", connectionId=CONNECTION)))
    assert links.page is None and "workspace" in links.problems[0]


def test_rest_keeps_links_to_link_hosts_when_given():
    api = RestApi(acme_settings({**ACME_EXTRAS, "link_hosts": ["ui.acme.example"]}))
    good = Script().run(api.job_links(job("r1", "https://ui.acme.example/runs/r1")))
    bad = Script().run(api.job_links(job("r1", "https://evil.test/runs/r1")))
    assert (good.page, good.api) == ("https://ui.acme.example/runs/r1", "https://acme.example/acme/v2/runs/r1")
    assert bad.page is None and bad.problems
