"""Test DAGs for ``TriggerJobOperator(if_running=...)``: ``if_running_<api>_<value>``, one task each.

Every DAG starts a job of one fixed target per API (a Tinybird copy of pipe ``busy_pipe``, Keboola
configuration ``4242``, one Airbyte connection, the Acme task ``busy_task``, the Faktory jid
``busy-jid``); the tests start a job of that target first, so that one is running.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from airflow_jobs_provider.operators.jobs import TriggerJobOperator

START = datetime(2026, 1, 1)
TARGETS = {
    "tinybird": ("jobs_default", {"kind": "copy", "pipe": "busy_pipe"}),
    "keboola": ("jobs_keboola", {"component": "keboola.ex-busy", "config": "4242"}),
    "airbyte": ("jobs_airbyte", {"connectionId": "0c0ffee0-aaaa-4bbb-8ccc-000000000042", "jobType": "sync"}),
    "rest": ("jobs_acme", {"task": "busy_task"}),
    "faktory": ("jobs_faktory", {"jobtype": "Busy", "args": [1], "jid": "busy-jid"}),
}
VALUES = ("start", "join", "fail", "cancel")


def one_task(api: str, value: str) -> DAG:
    conn_id, job = TARGETS[api]
    with DAG(dag_id=f"if_running_{api}_{value}", start_date=START, schedule=None, catchup=False) as dag:
        TriggerJobOperator(task_id="start", jobs_conn_id=conn_id, job=job, if_running=value)
    return dag


for _api in TARGETS:
    for _value in VALUES:
        globals()[f"if_running_{_api}_{_value}"] = one_task(_api, _value)
