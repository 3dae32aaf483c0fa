"""Run DAGs under dag.test() with the OpenLineage provider's file transport, in a fresh interpreter.

The OpenLineage provider reads its transport once, when Airflow loads its plugin; a process
that has already loaded plugins without a transport has no listener. So the lineage tests run
their DAGs here: ``python -m tests.support.lineage_run DAG_ID...`` prints each run's result as one
JSON line, and the provider writes each event to a file of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ["lineage_tinybird_copy", "lineage_tinybird_import", "lineage_keboola", "lineage_airbyte", "lineage_rest"]
"""tests/dags/lineage_dags.py: one DAG per API."""


@pytest.fixture(scope="session")
def lineage_runs(emulator: Any, airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The lineage DAGs, run once per session (one Airflow start-up) for test_lineage and test_secrets:
    ``results`` (state, task states, XComs by "task/key"), ``events``, their ``text`` and the emulator ``url``."""
    from tests.conftest import connection_env

    emulator.reset()
    for api in ("tinybird", "keboola", "airbyte", "acme"):
        emulator.set_defaults(api, queue_seconds=0.05, duration=0.3)
    saved = dict(os.environ)
    os.environ.update(connection_env(emulator.url, faktory_url=emulator.faktory_url))
    events_dir = tmp_path_factory.mktemp("lineage")
    try:
        results = run_with_lineage(events_dir / "event", DAGS)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    texts = [path.read_text() for path in sorted(events_dir.glob("event-*.json"))]
    events = [json.loads(text) for text in texts]
    text = "\n".join(texts)
    yield {"results": results, "events": events, "text": text, "url": emulator.url}

RESULTS_ENV = "JOBS_LINEAGE_RESULTS"
"""Where the child process writes one JSON line per DAG run."""


def run_with_lineage(events_prefix: Path, dag_ids: list[str], timeout: float = 300) -> dict[str, dict[str, Any]]:
    """Each DAG's state, task states and XComs; each event lands in a file ``<events_prefix>-<time>.json``.

    One file per event: on Airflow 2.11 the provider writes from forked processes at once, and
    appending events of several kilobytes to one file interleaves them.
    """
    transport = {"type": "file", "log_file_path": str(events_prefix), "append": False}
    results_file = events_prefix.parent / "runs.jsonl"  # not stdout: forked task processes write there too
    env = {
        **os.environ,
        RESULTS_ENV: str(results_file),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "jobs-provider-tests",
        "AIRFLOW__OPENLINEAGE__DISABLED": "False",
    }
    answer = subprocess.run(
        [sys.executable, "-m", "tests.support.lineage_run", *dag_ids],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    results = {}
    for line in (results_file.read_text().splitlines() if results_file.exists() else []):
        result = json.loads(line)
        results[result["dag_id"]] = result
    if answer.returncode != 0 or set(results) != set(dag_ids):
        output = f"{answer.stdout[-4000:]}\n{answer.stderr[-4000:]}"
        raise AssertionError(f"lineage runs failed (exit {answer.returncode}):\n{output}")
    return results


def main(dag_ids: list[str]) -> None:
    from tests.support.dagrun import run_dag

    for dag_id in dag_ids:
        result = run_dag(dag_id)
        xcoms = {f"{task}/{key}": value for (task, key), value in result.xcoms.items()}
        line = {"dag_id": dag_id, "state": result.state, "task_states": result.task_states, "xcoms": xcoms}
        with open(os.environ[RESULTS_ENV], "a", encoding="utf-8") as results:
            results.write(json.dumps(line, default=str) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
