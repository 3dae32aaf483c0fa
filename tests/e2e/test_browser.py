"""The UI as a user sees it, in a headless chromium: sign in, trigger the Tinybird and Keboola
example DAGs, open their tasks (the "Job" button, the task logs) and the connection form.

Every page is screenshotted (``tests/e2e/browser.py``), and each screenshot's page is scanned
for the emulator token and the user's password. The screenshots land in the test's temp folder,
or in ``$JOBS_E2E_SCREENSHOTS`` when set; docs/assets/browser-task-log.png (the sensor's progress)
and docs/assets/browser-job-story.png (a Keboola job's events and the summary line) are two of them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import pytest

from airflow_jobs_provider.get_provider_info import CONN_FIELDS
from tests.e2e.airflow_api import q
from tests.e2e.browser import VIEWPORT, Screens, chromium, sign_in
from tests.e2e.deployment import TOKEN, USER, Deployment
from tests.support.polling import poll_until

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.e2e

DAG_ID = "example_tinybird_copy"  # the one `make demo` runs first
START, WAIT = "start_copy", "wait_for_copy"
JOB = {"duration": 12.0, "queue_seconds": 0.5, "progress": [25, 50, 75]}
"""Long enough for the sensor (poking every second) to see the job running, in steps."""
RUN_TIMEOUT = 180.0
"""A run takes about 20 s; the bound is for 2 cores shared with other work."""
#: The DAGs whose "Job" button is checked: dag id -> (API, the task that starts the job, its job script).
#: Keboola is here because its button opens a page of the vendor's UI (once the links work is in).
BUTTONS = {
    DAG_ID: ("tinybird", START, JOB),
    "example_keboola": ("keboola", "run_extractor", {"duration": 2.0, "queue_seconds": 0.2}),
}


KEBOOLA_DAG, KEBOOLA_START, KEBOOLA_WAIT = "example_keboola", "run_extractor", "wait_for_extractor"
LOGS = [(DAG_ID, START), (DAG_ID, WAIT), (KEBOOLA_DAG, KEBOOLA_WAIT)]
"""The task logs checked: (dag id, task id)."""
STARTED_BY = {DAG_ID: START, KEBOOLA_DAG: KEBOOLA_START}
WIDE = {"width": 2300, "height": 900}
"""The viewport of the story screenshot: a Keboola event line is about 150 characters."""


def expected_log(dag_id: str, job_id: str) -> dict[str, list[str]]:
    """Per task, the lines its log must show, in this order (regular expressions): the progress,
    the job's own events (Keboola's Storage API events of its run), and the summary line.

    The one place to extend when the task log tells more of the job.
    """
    job = re.escape(job_id)
    if dag_id == KEBOOLA_DAG:
        event = r"\[keboola event [^\]]+\] "
        return {
            KEBOOLA_START: [rf"Started job {job}"],
            KEBOOLA_WAIT: [
                rf"{event}INFO keboola\.ex-db-snowflake: Job {job} created",
                rf"{event}INFO keboola\.ex-db-snowflake: Running component keboola\.ex-db-snowflake",
                rf"{event}SUCCESS keboola\.ex-db-snowflake: Job {job} finished: Component processing finished\.",
                rf"Summary: job {job} SUCCEEDED \(raw: success\) in \S+ \(queued \S+\); read 0 B, wrote 0 B",
            ],
        }
    return {
        START: [rf"Started job {job}"],
        WAIT: [
            rf"job {job}: RUNNING \d+%",
            rf"job {job}: SUCCEEDED",
            rf"Summary: job {job} SUCCEEDED \(raw: done\) in \S+ \(queued \S+\)",
        ],
    }


@pytest.fixture(scope="module")
def screens(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Screens:
    folder = Path(os.environ.get("JOBS_E2E_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    print(f"\nbrowser screenshots: {folder}")
    return Screens(folder, secrets=(TOKEN, deployment.password))


@pytest.fixture(scope="module")
def ui(deployment: Deployment, screens: Screens) -> Iterator[tuple[BrowserContext, Page]]:
    """A signed-in browser tab, through the login form."""
    with chromium() as context:
        page = context.new_page()
        page.goto(deployment.url)
        page.wait_for_url(re.compile(r"/auth/login"))
        screens.shoot(page, "01-sign-in")
        sign_in(page, deployment.url, USER, deployment.password)
        yield context, page


@pytest.fixture(autouse=True)
def shot_on_failure(
    request: pytest.FixtureRequest, ui: tuple[BrowserContext, Page], screens: Screens
) -> Iterator[None]:
    """A failed test leaves a screenshot of where the browser was (its call is reported before teardown)."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:
        screens.shoot_failure(ui[1], re.sub(r"\W+", "-", request.node.name))


@pytest.fixture(scope="module")
def runs(deployment: Deployment, ui: tuple[BrowserContext, Page], screens: Screens) -> dict[str, str]:
    """Trigger each DAG of BUTTONS from its page, as a user does; returns the run ids once they succeeded."""
    _, page = ui
    emulator = deployment.emulator
    assert emulator is not None
    emulator.reset()
    run_ids = {}
    with screens.on_failure(page, "02-run"):
        for dag_id, (api, _, script) in BUTTONS.items():
            emulator.script(api, **script, times=1)
            loaded = partial(deployment.api.dag_is_loaded, dag_id)
            poll_until(loaded, timeout=120, interval=1, what=f"{dag_id} to be parsed")
            page.goto(f"{deployment.url}/dags/{dag_id}")
            page.get_by_role("button", name="Trigger Dag").click()
            dialog = page.get_by_role("dialog")
            assert dialog.get_by_role("checkbox", name=f"Unpause {dag_id} on trigger").is_checked()
            dialog.get_by_role("button", name="Trigger", exact=True).click()
            page.wait_for_url(re.compile(rf"/dags/{dag_id}/runs/[^/?#]+$"))  # the UI opens the new run
            run_ids[dag_id] = unquote(page.url.rsplit("/", 1)[1])
        for dag_id, run_id in run_ids.items():
            state = deployment.api.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)
            assert state == "success", deployment.api.task_states(dag_id, run_id)
        page.goto(f"{deployment.url}/dags/{DAG_ID}/runs/{q(run_ids[DAG_ID])}")
        page.get_by_text("Success").first.wait_for()
    screens.shoot(page, "02-run")
    return run_ids


@pytest.fixture(scope="module")
def run_id(runs: dict[str, str]) -> str:
    """The Tinybird DAG's run."""
    return runs[DAG_ID]


def task_page(deployment: Deployment, run_id: str, task_id: str, dag_id: str = DAG_ID) -> str:
    return f"{deployment.url}/dags/{dag_id}/runs/{q(run_id)}/tasks/{task_id}"


def optional_xcom(deployment: Deployment, dag_id: str, run_id: str, task_id: str, key: str) -> Any:
    """The XCom's value, or None when the task pushed none."""
    path = f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/{q(task_id)}/xcomEntries/{q(key)}"
    entry = deployment.api.call("GET", path, ok=(200, 404))
    return entry.get("value") if entry else None


@pytest.mark.parametrize("dag_id", list(BUTTONS))
def test_the_job_button_opens_the_job_url(deployment, ui, runs, screens, dag_id):
    """The button is the ``job_url`` XCom and opens a page that answers; no URL, no button."""
    context, page = ui
    api, task_id, _ = BUTTONS[dag_id]
    run_id = runs[dag_id]
    job_url = optional_xcom(deployment, dag_id, run_id, task_id, "job_url")
    job_id = deployment.api.xcom(dag_id, run_id, task_id, "job_id")
    page.goto(task_page(deployment, run_id, task_id, dag_id))
    with page.expect_response(lambda answer: urlparse(answer.url).path.endswith(f"/{task_id}/links")) as listed:
        page.get_by_role("link", name="Details", exact=True).click()  # the tab that shows the extra links
    links = listed.value.json()["extra_links"]
    page.get_by_text("Operator", exact=True).first.wait_for()
    button = page.get_by_role("link", name="Job", exact=True)
    if not job_url:  # an API with no page of its own for a job: no button rather than a broken one
        assert not links.get("Job"), links
        assert button.count() == 0
        screens.shoot(page, f"03-no-job-button-{api}")
        return
    assert links["Job"] == job_url
    assert deployment.emulator is not None
    assert job_url.startswith(deployment.emulator.url)
    assert button.get_attribute("href") == job_url
    screens.shoot(page, f"03-job-button-{api}")

    answers_for_job_url = context.expect_event("response", lambda answer: answer.url == job_url)
    with answers_for_job_url as answered, context.expect_page() as opened:
        button.click()
    job_page, answer = opened.value, answered.value
    job_page.wait_for_load_state()
    assert job_page.url == job_url
    assert answer.status < 500, f"{job_url} -> {answer.status}"  # the API resource says 401/403 without a token
    if "text/html" in answer.headers.get("content-type", ""):  # the emulator's page for the job
        assert job_id in job_page.inner_text("body")
    screens.shoot(job_page, f"04-job-page-{api}")
    job_page.close()


@pytest.mark.parametrize(("dag_id", "task_id"), LOGS)
def test_the_task_log_shows_the_job(deployment, ui, runs, screens, dag_id, task_id):
    """The progress, the job's own events and the summary line, in the log a user opens."""
    _, page = ui
    run_id = runs[dag_id]
    job_id = deployment.api.xcom(dag_id, run_id, STARTED_BY[dag_id], "job_id")
    patterns = expected_log(dag_id, job_id)[task_id]
    page.goto(task_page(deployment, run_id, task_id, dag_id))  # the Logs tab is the task's first
    text = poll_until(
        lambda: page.inner_text("body"),
        lambda shown: _in_order(patterns, shown),
        timeout=30,
        interval=0.5,
        what=f"the {task_id} log to show {patterns}",
        describe=lambda shown: shown[-2000:],
    )
    assert _in_order(patterns, text)
    if dag_id == KEBOOLA_DAG:  # the job's events and the summary: docs/assets/browser-job-story.png
        page.set_viewport_size(WIDE)  # the event lines are long: the whole of them, not cut at the edge
        try:
            page.get_by_text("Summary: job", exact=False).first.wait_for()
            screens.shoot(
                page, "05-log-keboola-sensor-story", clip={"x": 0, "y": 0, "width": WIDE["width"], "height": 560}
            )
        finally:
            page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
        return
    name = "05-log-sensor" if task_id == WAIT else "05-log-operator"
    screens.shoot(page, name, clip={"x": 0, "y": 0, "width": 1400, "height": 500})  # the log, not the blank below


def test_the_connection_form_offers_the_jobs_api_type(deployment, ui, screens):
    _, page = ui
    page.goto(f"{deployment.url}/connections")
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Connection ID").fill("my_jobs")
    dialog.get_by_role("combobox", name="Connection Type").fill("Jobs API")
    page.get_by_role("option", name="Jobs API", exact=True).click()
    for relabelled in ("Base URL", "Login / client id", "API token / secret"):
        dialog.get_by_text(relabelled, exact=True).wait_for()
    assert dialog.get_by_text("Schema", exact=True).count() == 0  # hidden for this type

    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    api = dialog.get_by_role("combobox", name="API")
    api.click()
    choices = page.get_by_role("option").all_inner_texts()
    assert choices == CONN_FIELDS["api"]["schema"]["enum"]
    assert dialog.locator("input[name=element_api]").input_value() == CONN_FIELDS["api"]["schema"]["default"]
    screens.shoot(page, "06-connection-form")
    page.keyboard.press("Escape")


def _in_order(patterns: list[str], text: str) -> bool:
    position = 0
    for pattern in patterns:
        found: Any = re.compile(pattern).search(text, position)
        if found is None:
            return False
        position = found.end()
    return True
