"""The triggerer renders a started sensor's templates with XCom reads it can answer (triggers/rendering.py)."""

from __future__ import annotations

from typing import Any

from airflow_jobs_provider.triggers.rendering import triggerer_context


class Reads:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.run_id = "manual_1"

    def xcom_pull(self, *args: Any, **kwargs: Any) -> str:
        self.calls.append((args, kwargs))
        return "42"


def test_xcom_pull_without_map_indexes_reads_the_unmapped_xcom():
    ti = Reads()
    context = triggerer_context({"ti": ti, "task_instance": ti, "ds": "2026-01-01"})
    assert context["ti"].xcom_pull(task_ids="start", key="job_id") == "42"
    assert context["task_instance"].xcom_pull("start") == "42"
    assert ti.calls == [
        ((), {"task_ids": "start", "key": "job_id", "map_indexes": -1}),
        (("start",), {"map_indexes": -1}),
    ]
    assert context["ti"].run_id == "manual_1" and context["ds"] == "2026-01-01"


def test_map_indexes_given_are_kept():
    ti = Reads()
    triggerer_context({"ti": ti})["ti"].xcom_pull(task_ids="start", map_indexes=[0, 1])
    assert ti.calls == [((), {"task_ids": "start", "map_indexes": [0, 1]})]


def test_a_context_without_a_task_instance_stays_as_it_is():
    assert triggerer_context({"ds": "x"}) == {"ds": "x"}
