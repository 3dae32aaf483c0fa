"""Test DAGs: JobFinishedSensor per API and wait mode, and per soft_fail / never_fail / limit on Tinybird.

The time comes from dag_run.conf['finished_after'], as a cross-team DAG might take it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.sensors.jobs import JobFinishedSensor

MODES = ("poke", "reschedule", "deferrable")
# api -> (connection, the API's list filters, payload matches) for the jobs tests/support/events.py starts
WATCHED: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "tinybird": ("jobs_default", {"kind": "copy"}, {"pipe_name": "sales_rollup"}),
    "keboola": ("jobs_keboola", {"componentId": "keboola.ex-db-snowflake", "configId": "554424643"}, {}),
    "airbyte": ("jobs_airbyte", {"connectionId": "e735894a-e773-4938-969f-45f53957b75b"}, {}),
    "rest": ("jobs_acme", {"task": "nightly_report"}, {}),
    "faktory": ("jobs_faktory", {}, {}),
}
FLAGS: dict[str, dict[str, Any]] = {"": {}, "_soft_fail": {"soft_fail": True}, "_never_fail": {"never_fail": True}}
LIMITS: dict[str, dict[str, Any]] = {"": {"timeout": 30}, "_times_out": {"timeout": 1.5}}


def finished_dag(dag_id: str, api: str, mode: str, **changes: Any) -> DAG:
    conn_id, filters, match = WATCHED[api]
    with DAG(dag_id=dag_id, start_date=datetime(2026, 1, 1), schedule=None) as dag:
        JobFinishedSensor(
            task_id="wait",
            jobs_conn_id=conn_id,
            filters=filters,
            match=match,
            finished_after="{{ dag_run.conf['finished_after'] }}",
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
            poke_interval=0.2,
            **{"timeout": 30, **changes},
        )
    return dag


for mode in MODES:
    for api in WATCHED:
        globals()[f"finished_{api}_{mode}"] = finished_dag(f"finished_{api}_{mode}", api, mode)
    for flag in FLAGS:
        for limit in LIMITS:
            if flag or limit:
                dag_id = f"finished_tinybird_{mode}{flag}{limit}"
                globals()[dag_id] = finished_dag(dag_id, "tinybird", mode, **FLAGS[flag], **LIMITS[limit])
    dag_id = f"finished_faktory_{mode}_never_fail"
    globals()[dag_id] = finished_dag(dag_id, "faktory", mode, never_fail=True)

finished_succeeded_only = finished_dag("finished_succeeded_only", "tinybird", "poke", states=["SUCCEEDED"])
