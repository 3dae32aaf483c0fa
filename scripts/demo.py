"""`make demo`: run the example DAGs with dag.test() against the embedded emulator, then a summary."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOME = Path(tempfile.mkdtemp(prefix="jobs-demo-airflow-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
)
sys.path.insert(0, str(ROOT))

from airflow_jobs_provider.emulator import DEFAULT_TOKEN, run_emulator  # noqa: E402
from airflow_jobs_provider.emulator.connections import connection_env  # noqa: E402
from airflow_jobs_provider.hooks.jobs import JobsHook  # noqa: E402
from tests.support.dagrun import run_dag  # noqa: E402 - the environment must be set first

DAGS = [
    "example_tinybird_copy",
    "example_job_from_conf",
    "example_deferrable_monitor",
    "example_rest_api",
    "example_keboola",
    "example_if_running",
    "example_airbyte",
    "example_faktory",
    "example_cross_team_dependency",
]
APIS = ("tinybird", "acme", "keboola", "airbyte", "faktory")


def main() -> int:
    print(f"Migrating a throw-away Airflow DB in {HOME} ...", flush=True)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    rows = []
    with run_emulator() as emulator:
        os.environ.update(connection_env(emulator.url, DEFAULT_TOKEN, emulator.faktory_url))
        print(f"Emulator on {emulator.url}", flush=True)
        for api in APIS:
            emulator.set_defaults(api, duration=1.5, queue_seconds=0.3, progress=[25, 50, 75])
        for dag_id in DAGS:
            conf = None
            if dag_id == "example_job_from_conf":
                conf = {"job_id": JobsHook("jobs_default").start_job({"kind": "sink", "pipe": "export"}).job_id}
            if dag_id == "example_cross_team_dependency":  # the other team's jobs of the day, running
                JobsHook("jobs_default").start_job({"kind": "copy", "pipe": "sales_rollup"})
                JobsHook("jobs_keboola").start_job({"component": "keboola.ex-db-snowflake", "config": "554424643"})
            began = time.monotonic()
            result = run_dag(dag_id, conf)
            rows.append((dag_id, result.state, ", ".join(f"{t}={s}" for t, s in result.task_states.items()),
                         f"{time.monotonic() - began:.1f}s"))
        jobs = [(api, job) for api in APIS for job in emulator.jobs(api)]
    print("\nDAG runs")
    print(f"{'dag':30} {'run':8} {'wall':>6}  tasks")
    for dag_id, state, tasks, wall in rows:
        print(f"{dag_id:30} {state:8} {wall:>6}  {tasks}")
    print("\nJobs on the emulator")
    print(f"{'api':9} {'job':40} {'kind':13} {'state':10} {'duration':>8}")
    for api, job in jobs:
        kind, took = job.get("kind") or "-", f"{job['duration_seconds']:.1f}s"
        print(f"{api:9} {job['id']:40} {kind:13} {job['raw_status']:10} {took:>8}")
    failed = [row for row in rows if row[1] != "success"]
    print("\nAll example DAGs succeeded." if not failed else f"\n{len(failed)} DAG run(s) did not succeed.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
