"""Run a DAG from the test dags folder with dag.test() and read back what it did."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class RunResult:
    state: str
    task_states: dict[str, str]
    xcoms: dict[tuple[str, str], Any]
    run_id: str

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        return self.xcoms.get((task_id, key))


def load_dag(dag_id: str) -> Any:
    """Import the DAG object from the dags folder (the file that defines dag_id)."""
    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    for path in sorted(folder.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"dagfile_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for value in vars(module).values():
            if getattr(value, "dag_id", None) == dag_id and hasattr(value, "test"):
                return value
    raise LookupError(f"no DAG {dag_id} in {folder}")


def run_dag(dag_id: str, conf: dict[str, Any] | None = None) -> RunResult:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    dag = load_dag(dag_id)
    dag_run = dag.test(run_conf=conf)
    with create_session() as session:
        tis = dag_run.get_task_instances(session=session)
        rows = session.scalars(select(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id == dag_run.run_id))
        xcoms = {(row.task_id, row.key): XComModel.deserialize_value(row) for row in rows}
        return RunResult(
            state=str(dag_run.state),
            task_states={ti.task_id: str(ti.state) for ti in tis},
            xcoms=xcoms,
            run_id=dag_run.run_id,
        )
