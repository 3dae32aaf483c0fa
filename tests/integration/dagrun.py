"""Run a DAG from the test dags folder with dag.test() and read back what it did."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_jobs_provider.compat import AIRFLOW_V_3_0_PLUS


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
    from airflow.utils.session import create_session

    dag = load_dag(dag_id)
    with _task_log_to_this_tests_stdout():
        dag_run = dag.test(run_conf=conf)
    with create_session() as session:
        tis = dag_run.get_task_instances(session=session)
        return RunResult(
            state=str(dag_run.state),
            task_states={ti.task_id: str(ti.state) for ti in tis},
            xcoms=_read_xcoms(session, dag_id, dag_run.run_id),
            run_id=dag_run.run_id,
        )


def _read_xcoms(session: Any, dag_id: str, run_id: str) -> dict[tuple[str, str], Any]:
    """Every XCom of the run, by (task_id, key), as the DAG author would pull it."""
    from sqlalchemy import select

    if AIRFLOW_V_3_0_PLUS:
        from airflow.models.xcom import XComModel as Model  # stored as JSON by the execution API
    else:
        from airflow.models.xcom import BaseXCom as Model  # type: ignore[attr-defined,no-redef] # decoded on load

    rows = session.scalars(select(Model).where(Model.dag_id == dag_id, Model.run_id == run_id))
    return {(row.task_id, row.key): row.value for row in rows}


@contextmanager
def _task_log_to_this_tests_stdout() -> Iterator[None]:
    """Send the task log of this dag.test() to the current sys.stdout, where capsys reads it.

    Airflow 2's dag.test() adds a StreamHandler on the sys.stdout of the moment to the shared
    "airflow.task" logger, but only if it has none yet: left in place, every later test would log
    into the first test's (closed) capture. Airflow 3 logs through structlog to the current stdout.
    """
    if AIRFLOW_V_3_0_PLUS:
        yield
        return
    task_logger = logging.getLogger("airflow.task")
    before = list(task_logger.handlers)
    try:
        yield
    finally:
        for handler in [h for h in task_logger.handlers if h not in before]:
            task_logger.removeHandler(handler)
