"""A hostile page URL in an API answer never becomes a "Job" button: the task warns and shows none."""

from __future__ import annotations

import logging

import pytest
import requests

from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.tasks.links import read_links

HOSTILE = [
    "javascript:alert(document.cookie)",
    "https://admin:hunter2@evil.test/runs/1",
    "https://evil.test/runs/1?token=stolen",
    "https://acme.example/runs/1\nX-Injected: 1",
]


@pytest.mark.parametrize("ui_link", HOSTILE)
def test_a_hostile_page_url_from_the_api_gives_no_link_and_a_warning(live, ui_link, caplog):
    hook = JobsHook("jobs_acme")
    job = hook.start_job({"task": "report", "ui_link": ui_link})

    with caplog.at_level(logging.WARNING):
        links = read_links(hook, job, logging.getLogger("test"))

    assert links.page is None
    assert links.api == f"{live.url}/acme/v2/runs/{job.job_id}"
    assert "refused a URL" in caplog.text and "hunter2" not in caplog.text


def test_an_unknown_job_page_is_a_404_html_page(live):
    answer = requests.get(f"{live.url}/admin/projects/7150/queue/424242", timeout=10)
    assert answer.status_code == 404 and answer.headers["Content-Type"].startswith("text/html")
