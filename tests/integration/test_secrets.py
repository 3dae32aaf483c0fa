"""No secret leaks, on any path: every example DAG and every failure case runs with known secrets,
and everything a user or an operator could read afterwards is scanned for them.

Secrets: the connection token (also the Airbyte client secret and the Faktory password), a wrong
token a failing run sends, every Airbyte access token minted during the runs, and every Faktory
password hash sent in a HELLO. Scanned: the stdout/stderr of every run (the task logs dag.test()
prints), every file under AIRFLOW_HOME/logs, every XCom, every trigger's serialized kwargs, the task
instances' next_kwargs (trigger events) and rendered fields, the text of every exception the
bad-input cases raise, and the emulator's access and Faktory command logs. The job's own story
(Keboola events, Tinybird ops-log rows, Airbyte attempts from the Config API, the REST log, Faktory's
desc) and the summary lines are in those task logs, and are checked to be there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_jobs_provider.hooks import faktory as faktory_transport
from airflow_jobs_provider.hooks import jobs as hooks_module
from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.triggers.jobs import JobStatusTrigger
from tests.conftest import TOKEN
from tests.integration.test_bad_input import CASES, Env
from tests.support.dagrun import run_dag
from tests.support.jobs import start_tinybird_job
from tests.support.odd_api import odd_api

pytestmark = pytest.mark.usefixtures("airflow_db")
WRONG = "wrong-secret-4b7e9d1f"
EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
QUICK = {"queue_seconds": 0.05, "duration": 0.3}


def example_dag_ids() -> list[str]:
    """Every DAG the example files define (imported as Airflow's DAG processor would)."""
    ids = []
    for path in sorted(EXAMPLES.glob("example_*.py")):
        spec = importlib.util.spec_from_file_location(f"secrets_scan_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        dags = [value for value in vars(module).values() if not isinstance(value, type)]  # not the DAG class itself
        ids += [value.dag_id for value in dags if hasattr(value, "dag_id") and hasattr(value, "test")]
    return sorted(set(ids))


def prepare_example(live: Any, dag_id: str) -> dict[str, Any] | None:
    """What an example DAG needs before it runs (as scripts/demo.py does): its conf, or the jobs it waits for."""
    if dag_id == "example_job_from_conf":
        return {"job_id": start_tinybird_job(live, "succeeded")}
    if dag_id == "example_cross_team_dependency":  # the other team's jobs, still running when the DAG starts
        for api in ("tinybird", "keboola"):
            live.set_defaults(api, queue_seconds=0.05, duration=2.0)
        JobsHook("jobs_default").start_job({"kind": "copy", "pipe": "sales_rollup"})
        JobsHook("jobs_keboola").start_job({"component": "keboola.ex-db-snowflake", "config": "554424643"})
    return None


def quick_defaults(live: Any) -> None:
    for api in ("tinybird", "acme", "keboola", "airbyte", "faktory"):
        live.set_defaults(api, **QUICK)


def failing_runs(live: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Callable[[], dict[str, Any] | None]]]:
    """(dag_id, preparation returning the run's conf): each run ends failed, on a different path."""

    def job(outcome: str, **script: Any) -> Callable[[], dict[str, Any]]:
        return lambda: {"job_id": start_tinybird_job(live, outcome, **script)}

    def scripted(api: str, **script: Any) -> Callable[[], None]:
        return lambda: live.script(api, **{**QUICK, **script}) and None

    def wrong_token() -> None:
        conn = json.loads(os.environ["AIRFLOW_CONN_JOBS_DEFAULT"])
        monkeypatch.setenv("AIRFLOW_CONN_JOBS_DEFAULT", json.dumps({**conn, "password": WRONG}))

    def uncertain_start() -> None:
        live.faults("tinybird", {"5xx": 1.0}, route="copy", seed=1)  # 500/502/504 after the job exists
        live.faults("tinybird", {"5xx": 1.0}, route="jobs", seed=1)  # and the lookup for it fails too

    return [
        ("sensor_poke", job("failed", error="disk full")),
        ("sensor_deferrable", job("cancelled")),
        ("sensor_reschedule", job("exploded")),
        ("sensor_deferrable_times_out", job("succeeded", queue_seconds=30)),
        ("sensor_poke", lambda: {"job_id": "nope-404"}),
        ("operator_waits_deferrable", scripted("tinybird", outcome="failed", error="quota exceeded")),
        ("operator_waits_sync", uncertain_start),
        ("deferred_operator_execution_timeout", scripted("tinybird", queue_seconds=30)),
        ("example_airbyte", scripted("airbyte", outcome="failed")),
        ("example_keboola", scripted("keboola", outcome="failed", error="Table in.c-main.x not found")),
        ("example_faktory", scripted("faktory", outcome="failed", error="boom")),
        ("example_tinybird_copy", wrong_token),
    ]


def story_runs(live: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Callable[[], None]]]:
    """(dag_id, preparation): runs whose task logs hold each API's story lines (tests/dags/job_story.py)."""

    def scripted(api: str, **script: Any) -> Callable[[], None]:
        return lambda: live.script(api, **{**QUICK, **script}) and None

    def airbyte_config_api() -> None:
        conn = json.loads(os.environ["AIRFLOW_CONN_JOBS_AIRBYTE"])
        conn["extra"] = {**conn["extra"], "config_api_url": f"{live.url}/api/v1", "config_api_log_lines": 5}
        monkeypatch.setenv("AIRFLOW_CONN_JOBS_AIRBYTE", json.dumps(conn))
        live.script("airbyte", outcome="failed", queue_seconds=0.05, duration=0.6)

    return [
        ("story_keboola_deferrable", scripted("keboola", outcome="failed", progress=[50])),
        ("story_tinybird_import_operator_sync", scripted("tinybird", outcome="failed")),
        ("story_airbyte_deferrable", airbyte_config_api),
        ("story_acme_reschedule", scripted("acme")),
        ("story_faktory_poke", scripted("faktory", progress=[50])),
    ]


STORY_MARKERS = (
    "[keboola event ", "[tinybird] tinybird.datasources_ops_log", "[airbyte] attempt 2 failure", "[job log] ",
    "[faktory] 50% ", "Summary: job ",
)  # fmt: skip


def stored_texts() -> dict[str, str]:
    """What the metadata DB keeps: trigger kwargs, next_kwargs (trigger events), rendered fields."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return {
            "trigger rows": json.dumps([row.kwargs for row in session.scalars(select(Trigger))], default=str),
            "next_kwargs": json.dumps([ti.next_kwargs for ti in session.scalars(select(TaskInstance))], default=str),
            "rendered fields": json.dumps(
                [row.rendered_fields for row in session.scalars(select(RenderedTaskInstanceFields))], default=str
            ),
        }


def log_files() -> str:
    logs = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    files = [path for path in logs.rglob("*") if path.is_file()] if logs.exists() else []
    return "\n".join(path.read_text(errors="replace") for path in files)


def bad_input_errors(live: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    texts = []
    with odd_api() as other, odd_api(other_host=other.url) as odd:
        env = Env(live, odd, other, monkeypatch)
        for case in CASES:
            live.reset()
            try:
                case.act(env)
            except AirflowException as error:
                texts.append(f"{type(error).__name__}: {error!r} {error}")
    assert len(texts) == len(CASES)
    return "\n".join(texts)


def test_no_secret_reaches_logs_xcom_trigger_kwargs_errors_or_the_api_log(live, capfd, mocker, monkeypatch):
    masked: list[str] = []
    real_mask = hooks_module._mask_secret
    mocker.patch.object(hooks_module, "_mask_secret", side_effect=lambda s: (masked.append(s), real_mask(s))[1])
    hashes: list[str] = []
    real_hello = faktory_transport.hello_command

    def hello(hi: Any, settings: Any) -> Any:
        command = real_hello(hi, settings)
        hashes.append(command.json()["pwdhash"])
        return command

    mocker.patch.object(faktory_transport, "hello_command", side_effect=hello)
    serialized = mocker.spy(JobStatusTrigger, "serialize")  # the triggerer's (and 3.x dag.test's) view
    built = mocker.spy(JobStatusTrigger, "__init__")  # 2.11's dag.test runs triggers without serializing

    texts: dict[str, str] = {}
    results = []
    for dag_id in example_dag_ids():
        live.reset()
        quick_defaults(live)
        results.append((dag_id, run_dag(dag_id, prepare_example(live, dag_id))))
    failed = []
    for dag_id, prepare in failing_runs(live, monkeypatch):
        live.reset()
        quick_defaults(live)
        result = run_dag(dag_id, prepare())
        failed.append((dag_id, result.state))
        results.append((dag_id, result))
        texts[f"emulator access log after {dag_id}"] = json.dumps(live.requests())
        texts[f"Faktory command log after {dag_id}"] = json.dumps(live.faktory())
    for dag_id, prepare in story_runs(live, monkeypatch):
        live.reset()
        quick_defaults(live)
        prepare()
        results.append((dag_id, run_dag(dag_id)))
        texts[f"emulator access log after {dag_id}"] = json.dumps(live.requests())
    texts["exceptions of the bad-input cases"] = bad_input_errors(live, monkeypatch)

    captured = capfd.readouterr()
    texts["stdout"], texts["stderr"] = captured.out, captured.err
    texts["log files"] = log_files()
    texts["xcom"] = json.dumps([(dag_id, list(result.xcoms.items())) for dag_id, result in results], default=str)
    kwargs = [call.kwargs for call in built.call_args_list] + [call for call in serialized.spy_return_list]
    texts["trigger kwargs"] = json.dumps(kwargs, default=str)
    texts.update(stored_texts())

    access_tokens = sorted({secret for secret in masked if secret not in (TOKEN, WRONG)})
    secrets = {"token": TOKEN, "wrong token": WRONG}
    secrets.update({f"Airbyte access token {n}": token for n, token in enumerate(access_tokens)})
    secrets.update({f"Faktory password hash {n}": digest for n, digest in enumerate(hashes)})
    assert all(state == "failed" for _, state in failed), f"each failure case must fail: {failed}"
    assert access_tokens, "the Airbyte runs minted access tokens (client credentials)"
    assert hashes, "the Faktory runs sent password hashes"
    assert built.call_args_list, "deferrable runs built triggers"
    assert "Started job" in texts["stdout"], "the task logs were captured"
    assert [marker for marker in STORY_MARKERS if marker not in texts["stdout"]] == [], "each API's story was logged"
    leaks = [(where, what) for what, secret in secrets.items() for where, text in texts.items() if secret in text]
    assert not leaks, f"secrets found: {leaks}"


def test_no_secret_reaches_a_link_or_a_lineage_event(lineage_runs):
    """The lineage DAGs of every API (tests/dags/lineage_dags.py), run with the OpenLineage provider's
    file transport: no token, Airbyte access token or import-URL secret in their events or links."""
    import re

    pytest.importorskip("airflow.providers.openlineage", reason="the [openlineage] extra is not installed")
    runs = lineage_runs["results"].values()
    links = json.dumps([{key: value for key, value in run["xcoms"].items() if "url" in key} for run in runs])
    texts = {"lineage events": lineage_runs["text"], "links": links}
    assert "start/job_api_url" in links, "the scan sees the link XComs"
    secrets = {"token": TOKEN, "import URL password": "hunter2", "import URL signature": "abc123"}
    secrets["import URL token"] = "t0k3n"
    leaks = [(where, what) for what, secret in secrets.items() for where, text in texts.items() if secret in text]
    leaks += [(where, "an Airbyte access token") for where, text in texts.items() if re.search(r"abt_[\w-]{16}", text)]
    assert lineage_runs["events"] and not leaks, f"secrets found: {leaks}"


def test_tokens_are_registered_with_the_secrets_masker(live, monkeypatch, mocker):
    """The masker hides a token once a hook has read its connection, and each access token it mints."""
    from airflow.providers.common.compat.sdk import redact

    fresh = f"fresh-secret-{uuid.uuid4().hex}"
    conn = {"conn_type": "jobs", "host": live.url, "password": fresh, "extra": {"api": "tinybird"}}
    monkeypatch.setenv("AIRFLOW_CONN_JOBS_FRESH", json.dumps(conn))
    assert fresh in str(redact(f"token={fresh}")), "not known to the masker before the hook runs"

    assert JobsHook("jobs_fresh").settings.token == fresh  # the hook reads its connection

    assert str(redact(f"token={fresh}")) == "token=***"

    minted: list[str] = []
    real_mask = hooks_module._mask_secret
    mocker.patch.object(hooks_module, "_mask_secret", side_effect=lambda s: (minted.append(s), real_mask(s))[1])
    JobsHook("jobs_airbyte").list_jobs()
    access_tokens = [secret for secret in minted if secret != TOKEN]
    assert access_tokens, "client credentials mint an access token"
    assert all(str(redact(f"Bearer {token}")) == "Bearer ***" for token in access_tokens)
