"""The job's own story in the task log, under dag.test() against the emulator: each line once, no token.

Every API, every wait mode: the sensor (poke, reschedule, deferrable) and the operator that waits
(in a worker, or deferred) log the job's events, attempts or log entries as they appear, then one
summary line with the job's page.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TOKEN
from tests.support.dagrun import run_dag

pytestmark = pytest.mark.usefixtures("airflow_db")
MODES = ("poke", "reschedule", "deferrable")


STRUCTLOG_TAIL = re.compile(r"\s+\[[\w.]+\](?: \w+=\S+)*$")


def story_lines(out: str, marker: str) -> list[str]:
    """The task log's lines that carry ``marker``, from it on, without structlog's ``[logger] loc=…`` tail."""
    return [STRUCTLOG_TAIL.sub("", line[line.index(marker) :]) for line in out.splitlines() if marker in line]


def assert_once(lines: list[str]) -> None:
    repeated = [line for line, count in Counter(lines).items() if count > 1]
    assert not repeated, f"logged more than once: {repeated}"


def run(capsys: Any, dag_id: str) -> tuple[Any, str]:
    result = run_dag(dag_id)
    out = capsys.readouterr().out
    assert TOKEN not in out
    if folder := os.environ.get("JOB_STORY_LOGS"):  # to read the task logs afterwards
        Path(folder, f"{dag_id}.log").write_text(out)
    return result, out


# ---------------------------------------------------------------- Keboola: the run's Storage API events


@pytest.mark.parametrize("mode", MODES)
def test_keboola_events_and_summary_reach_the_task_log_once(live, capsys, mode):
    live.script("keboola", queue_seconds=0.1, duration=1.2, progress=[25, 50, 75])

    result, out = run(capsys, f"story_keboola_{mode}")

    assert result.task_states == {"start": "success", "wait": "success"}
    events = story_lines(out, "[keboola event ")
    assert_once(events)
    assert [line.split("] ", 1)[1] for line in events] == [
        f"INFO keboola.ex-db-snowflake: Job {result.xcom('start', 'job_id')} created",
        "INFO keboola.ex-db-snowflake: Running component keboola.ex-db-snowflake (config 554424643)",
        "INFO keboola.ex-db-snowflake: Processed 25% of the input",
        "INFO keboola.ex-db-snowflake: Processed 50% of the input",
        "INFO keboola.ex-db-snowflake: Processed 75% of the input",
        f"SUCCESS keboola.ex-db-snowflake: Job {result.xcom('start', 'job_id')} finished: "
        "Component processing finished.",
    ]
    (summary,) = story_lines(out, "Summary: ")
    job_id = result.xcom("start", "job_id")
    assert summary.startswith(f"Summary: job {job_id} SUCCEEDED (raw: success) in ")
    page = result.xcom("start", "job_url")  # the job's page in the vendor's UI, as the "Job" button opens it
    assert "/admin/projects/" in page and page.endswith(f"/queue/{job_id}")
    assert "queued" in summary and "read 0 B, wrote 0 B" in summary and summary.endswith(f": {page}")
    final = result.xcom("wait")
    assert final["payload"]["metrics"] == {"storage": {"inputTablesBytesSum": 0, "outputTablesBytesSum": 0}}
    assert final["payload"]["result"]["message"] == "Component processing finished."


def test_keboola_failure_logs_the_error_event_first(live, capsys):
    live.script("keboola", outcome="failed", queue_seconds=0.1, duration=0.4, error="Table in.c-main.x not found")

    result, out = run(capsys, "story_keboola_operator_sync")

    assert result.task_states == {"run": "failed"}
    events = story_lines(out, "[keboola event ")
    assert_once(events)
    last_batch = [line for line in events if "ERROR" in line or "ended with status" in line]
    assert last_batch[0].endswith("ERROR keboola.ex-db-snowflake: Table in.c-main.x not found")
    (summary,) = story_lines(out, "Summary: ")
    assert " FAILED (raw: error)" in summary


# ---------------------------------------------------------------- Tinybird: job details, ops-log rows on failure


@pytest.mark.parametrize("mode", MODES)
def test_tinybird_populate_queries_and_summary_reach_the_task_log_once(live, capsys, mode):
    live.script("tinybird", queue_seconds=0.1, duration=1.5)

    result, out = run(capsys, f"story_tinybird_populate_{mode}")

    assert result.task_states == {"start": "success", "wait": "success"}
    lines = story_lines(out, "[tinybird] ")
    assert_once(lines)
    (job,) = live.jobs("tinybird")
    query_ids = job["attrs"]["query_ids"]
    for query_id in query_ids:
        assert f"[tinybird] populate query {query_id}: done" in lines, lines
    (summary,) = story_lines(out, "Summary: ")
    assert summary.startswith(f"Summary: job {job['id']} SUCCEEDED (raw: done) in ") and "(queued " in summary
    assert summary.endswith(f"/v0/jobs/{job['id']}")


def test_tinybird_import_statistics_reach_the_summary_and_the_xcom(live, capsys):
    live.script("tinybird", queue_seconds=0.1, duration=0.3)

    result, out = run(capsys, "story_tinybird_import_poke")

    assert "[tinybird] statistics: bytes=2048, row_count=100" in story_lines(out, "[tinybird] ")
    (summary,) = story_lines(out, "Summary: ")
    assert "; 100 rows, 2.0 KB" in summary
    assert result.xcom("wait")["payload"]["statistics"] == {"bytes": 2048, "row_count": 100}


@pytest.mark.parametrize(("dag_id", "table"), [
    ("story_tinybird_import_operator_deferrable", "tinybird.datasources_ops_log"),
    ("story_tinybird_operator_sync", "tinybird.datasources_ops_log"),
])  # fmt: skip
def test_a_failed_import_or_copy_logs_its_error_and_its_ops_log_rows(live, capsys, dag_id, table):
    live.script("tinybird", outcome="failed", queue_seconds=0.1, duration=0.3, error="CSV header mismatch")

    result, out = run(capsys, dag_id)

    assert result.task_states == {"run": "failed"}
    lines = story_lines(out, "[tinybird] ")
    assert_once(lines)
    assert "[tinybird] error: CSV header mismatch" in lines
    (ops,) = [line for line in lines if line.startswith(f"[tinybird] {table}: ")]
    assert "result=error" in ops and "error=CSV header mismatch" in ops
    (summary,) = story_lines(out, "Summary: ")
    assert " FAILED (raw: error)" in summary


# ---------------------------------------------------------------- Airbyte: totals, and attempts from the Config API


def with_config_api(live: Any, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> None:
    conn = json.loads(os.environ["AIRFLOW_CONN_JOBS_AIRBYTE"])
    conn["extra"] = {**conn["extra"], "config_api_url": f"{live.url}/api/v1", **extra}
    monkeypatch.setenv("AIRFLOW_CONN_JOBS_AIRBYTE", json.dumps(conn))


def test_airbyte_public_api_totals_reach_the_summary(live, capsys):
    live.script("airbyte", queue_seconds=0.1, duration=0.4)

    result, out = run(capsys, "story_airbyte_poke")

    assert result.task_states == {"start": "success", "wait": "success"}
    (summary,) = story_lines(out, "Summary: ")
    job_id = result.xcom("start", "job_id")
    assert summary.startswith(f"Summary: job {job_id} SUCCEEDED in ")
    assert "; 12,000 rows, 5.9 MB" in summary
    assert story_lines(out, "[airbyte] ") == []


@pytest.mark.parametrize("mode", MODES)
def test_airbyte_attempts_and_their_failures_reach_the_task_log_once(live, capsys, monkeypatch, mode):
    with_config_api(live, monkeypatch, config_api_log_lines=5)
    live.script("airbyte", outcome="failed", queue_seconds=0.1, duration=1.6, error="Connection refused by source")

    result, out = run(capsys, f"story_airbyte_{mode}")

    assert result.task_states == {"start": "success", "wait": "failed"}
    lines = story_lines(out, "[airbyte] ")
    assert_once(lines)
    failures = [line for line in lines if "failure (source, system_error)" in line]
    assert failures == [
        "[airbyte] attempt 1 failure (source, system_error): Connection refused by source",
        "[airbyte] attempt 2 failure (source, system_error): Connection refused by source",
    ]
    for attempt in (1, 2):  # once, though its counts could change afterwards
        assert len([line for line in lines if line.startswith(f"[airbyte] attempt {attempt} failed after ")]) == 1
    assert any(line.endswith("source > ERROR Connection refused by source") for line in lines), "the attempt's log"
    (summary,) = story_lines(out, "Summary: ")
    assert f"Summary: job {result.xcom('start', 'job_id')} FAILED in " in summary


# ---------------------------------------------------------------- declarative REST: the log endpoint's entries


@pytest.mark.parametrize("mode", MODES)
def test_rest_log_entries_reach_the_task_log_once(live, capsys, mode):
    live.script("acme", outcome="failed", queue_seconds=0.1, duration=1.2, error="worker lost")

    result, out = run(capsys, f"story_acme_{mode}")

    assert result.task_states == {"start": "success", "wait": "failed"}
    lines = story_lines(out, "[job log] ")
    assert_once(lines)
    run_id = result.xcom("start", "job_id")
    messages = [line.split(": ", 1)[1] for line in lines]
    assert messages == [f"run {run_id} queued (nightly)", "run started", "25% done", "50% done", "75% done",
                        "run ended FAILED: worker lost"]  # fmt: skip
    assert " ERROR: run ended FAILED" in lines[-1]
    (summary,) = story_lines(out, "Summary: ")
    assert summary == f"Summary: job {run_id} FAILED: {live.url}/acme/ui/runs/{run_id}"


# ---------------------------------------------------------------- Faktory: percent and desc as they change


@pytest.mark.parametrize("mode", MODES)
def test_faktory_percent_and_desc_reach_the_task_log_once(live, capsys, mode):
    live.script("faktory", queue_seconds=0.1, duration=1.5, progress=[30, 60, 90])

    result, out = run(capsys, f"story_faktory_{mode}")

    assert result.task_states == {"start": "success", "wait": "success"}
    lines = story_lines(out, "[faktory] ")
    assert_once(lines)
    steps = ["[faktory] 30% step 1 of 3", "[faktory] 60% step 2 of 3", "[faktory] 90% step 3 of 3"]
    assert lines and all(line in steps for line in lines) and lines == sorted(lines), lines
    (summary,) = story_lines(out, "Summary: ")
    assert summary == f"Summary: job {result.xcom('start', 'job_id')} SUCCEEDED (raw: success)"
