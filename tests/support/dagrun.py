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

from airflow_jobs_provider.version_compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_3_PLUS
from tests.support.execution_api import one_execution_api_per_process


@dataclass
class RunResult:
    state: str
    task_states: dict[str, str]
    xcoms: dict[tuple[str, str], Any]
    run_id: str

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        return self.xcoms.get((task_id, key))


_FILE_OF_DAG: dict[str, Path] = {}
"""dag_id -> the file that defined it, for the files load_dag has run (DAG ids are unique in the folder)."""


def load_dag(dag_id: str) -> Any:
    """Import the DAG object from the dags folder (the file that defines dag_id), afresh on every call.

    Once a file has been run, only that file is run again for its DAGs, not every file before it.
    """
    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    known = _FILE_OF_DAG.get(dag_id)
    for path in [known] if known is not None else sorted(folder.glob("*.py")):
        dags = _dags_of(path)
        if dag_id in dags:
            return dags[dag_id]
    raise LookupError(f"no DAG {dag_id} in {folder}")


def _dags_of(path: Path) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location(f"dagfile_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    values = [value for value in vars(module).values() if not isinstance(value, type)]  # not the DAG class itself
    dags = {value.dag_id: value for value in values if hasattr(value, "dag_id") and hasattr(value, "test")}
    for dag_id in dags:
        _FILE_OF_DAG.setdefault(dag_id, path)
    return dags


def run_dag(dag_id: str, conf: dict[str, Any] | None = None) -> RunResult:
    from airflow.utils.session import create_session

    dag = load_dag(dag_id)
    with (
        _task_log_to_this_tests_stdout(),
        _a_task_timeout_ends_the_task_not_the_run(),
        _triggers_run_as_stored(),
        one_execution_api_per_process(),
        _syncs_only_the_file_of_the_dag(dag),
    ):
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
def _syncs_only_the_file_of_the_dag(dag: Any) -> Iterator[None]:
    """Let Airflow 3.3's dag.test() parse and store the DAGs of the file under test, not the whole folder.

    3.3 re-parses its DAG's whole bundle on every call, so that sibling DAGs are stored too
    (apache/airflow#64884), and serializes and hashes each: the test folder holds over a hundred
    DAGs, about a second per run. The file under test is still parsed and stored the same way,
    with its sibling DAGs; no test DAG depends on a DAG of another file. Earlier minors store the
    folder once, the first time a DAG is missing.
    """
    if not AIRFLOW_V_3_3_PLUS:
        yield
        return
    from unittest import mock

    from airflow.dag_processing import dagbag as dagbag_module

    whole_bundle = dagbag_module.BundleDagBag

    def the_file_of_the_dag(*args: Any, dag_folder: Any = None, bundle_path: Any = None, **kwargs: Any) -> Any:
        if dag_folder is not None and bundle_path is not None and Path(dag_folder) == Path(bundle_path):
            dag_folder = dag.fileloc
        return whole_bundle(*args, dag_folder=dag_folder, bundle_path=bundle_path, **kwargs)

    with mock.patch.object(dagbag_module, "BundleDagBag", the_file_of_the_dag):
        yield


@contextmanager
def _triggers_run_as_stored() -> Iterator[None]:
    """Run a deferred task's trigger rebuilt from its serialized kwargs, as the triggerer would.

    Airflow 3.3's dag.test() does that round trip itself; 2.11's runs the trigger object as the
    task built it, so kwargs that would not survive storage would go unnoticed there.
    """
    if AIRFLOW_V_3_0_PLUS:
        yield
        return
    from unittest import mock

    from airflow.models import dag as dag_module

    from tests.support.trigger_store import rebuilt

    run_inline = dag_module._run_inline_trigger
    with mock.patch.object(dag_module, "_run_inline_trigger", lambda trigger: run_inline(rebuilt(trigger))):
        yield


@contextmanager
def _a_task_timeout_ends_the_task_not_the_run() -> Iterator[None]:
    """Let Airflow 2's dag.test() go on after a task's AirflowTaskTimeout, as a worker would.

    On 2.x AirflowTaskTimeout derives from BaseException. The task records the failure (failed or
    up for retry) and re-raises it; a worker's task runner absorbs it, but dag.test() catches only
    Exception, so the timeout would escape dag.test() and end the whole run there and then.
    """
    if AIRFLOW_V_3_0_PLUS:
        yield
        return
    from unittest import mock

    from airflow.exceptions import AirflowTaskTimeout
    from airflow.models import dag as dag_module

    run_task = dag_module._run_task

    def like_a_worker(**kwargs: Any) -> None:
        try:
            run_task(**kwargs)
        except AirflowTaskTimeout:
            logging.getLogger(__name__).info("the task timed out; its state is recorded, the run goes on")

    with mock.patch.object(dag_module, "_run_task", like_a_worker):
        yield


@contextmanager
def _task_log_to_this_tests_stdout() -> Iterator[None]:
    """Print each task log line once, to the current sys.stdout, where capsys reads it.

    Airflow 2's dag.test() gives the shared "airflow.task" logger a StreamHandler on the sys.stdout
    of the moment unless it has one already. The records also propagate to Airflow's console
    handler, which writes to whatever sys.stdout is when they arrive, so that handler printed every
    line twice, and from the second test on into the first test's closed capture. A stand-in that
    prints nothing keeps dag.test() from adding it. Airflow 3 logs through structlog to the current
    stdout.
    """
    if AIRFLOW_V_3_0_PLUS:
        yield
        return
    task_logger = logging.getLogger("airflow.task")
    assert task_logger.propagate, "airflow.task does not propagate: its lines would not reach stdout"
    stand_in = _ConsoleHandlerPrintsIt()
    task_logger.addHandler(stand_in)
    try:
        yield
    finally:
        task_logger.removeHandler(stand_in)


class _ConsoleHandlerPrintsIt(logging.StreamHandler):  # type: ignore[type-arg]
    """Counts as the StreamHandler dag.test() looks for; Airflow's console handler prints the record."""

    def emit(self, record: logging.LogRecord) -> None:
        return None
