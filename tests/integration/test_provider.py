"""The package is a provider Airflow recognises, and provider.yaml says the same as the code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from airflow_jobs_provider.get_provider_info import get_provider_info
from airflow_jobs_provider.version_compat import AIRFLOW_V_3_2_PLUS
from tests.support.airflow_versions import needs_connection_form_loader, only_airflow_2, only_airflow_3
from tests.support.dagrun import run_dag

ROOT = Path(__file__).resolve().parents[2]
API_NAMES = ["tinybird", "rest", "keboola", "airbyte", "faktory"]


def test_provider_yaml_matches_get_provider_info():
    declared = yaml.safe_load((ROOT / "provider.yaml").read_text())
    info = get_provider_info()
    for key in ("package-name", "name", "description", "connection-types", "extra-links", "hooks", "triggers"):
        assert declared[key] == info[key], key


def test_airflow_lists_the_provider(airflow_db):
    out = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "list", "-o", "plain"],
        capture_output=True, text=True, check=True, env=os.environ.copy(),
    ).stdout
    assert "airflow-jobs-provider" in out


def test_connection_type_is_registered(airflow_db):
    from airflow.providers_manager import ProvidersManager

    hooks = ProvidersManager().hooks
    assert hooks["jobs"].hook_class_name == "airflow_jobs_provider.hooks.jobs.JobsHook"


@only_airflow_3
def test_job_link_reads_the_job_url_xcom_in_the_serialized_dag():
    """Airflow 3's api-server resolves a link from its serialized xcom_key; ours is job_url."""
    from tests.support.dagrun import load_dag

    if AIRFLOW_V_3_2_PLUS:
        from airflow.serialization.serialized_objects import DagSerialization as Serializer
    else:  # 3.0 and 3.1 call it SerializedDAG
        from airflow.serialization.serialized_objects import SerializedDAG as Serializer
    serialized = Serializer.to_dict(load_dag("example_tinybird_copy"))
    (start,) = [t["__var"] for t in serialized["dag"]["tasks"] if t["__var"]["task_id"] == "start_copy"]
    assert start["_operator_extra_links"] == {"Job": "job_url"}


@only_airflow_2
def test_job_link_reads_the_job_url_xcom_from_the_serialized_dag(airflow_db, live):
    """Airflow 2.11's webserver rebuilds the link from the serialized DAG and calls its get_link."""
    from airflow.models.dagrun import DagRun
    from airflow.serialization.serialized_objects import SerializedDAG

    from tests.support.dagrun import load_dag

    live.set_defaults("acme", duration=0.2, queue_seconds=0.1)
    dag = load_dag("example_rest_api")
    result = run_dag("example_rest_api")
    webserver_dag = SerializedDAG.from_dict(SerializedDAG.to_dict(dag))
    task = webserver_dag.get_task("run_report")
    (dag_run,) = DagRun.find(dag_id="example_rest_api", run_id=result.run_id)
    ti = dag_run.get_task_instance("run_report")

    assert task.extra_links == ["Job"]
    assert task.get_extra_links(ti, "Job") == result.xcom("run_report", "job_url")
    assert "/acme/ui/runs/" in result.xcom("run_report", "job_url")  # the job's page, not its API resource


@needs_connection_form_loader
def test_connection_form_is_declared_for_the_ui(airflow_db):
    """3.2+ reads provider info's conn-fields; 2.11 the hook's classmethods. Both offer the same choices."""
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    widgets = manager.connection_form_widgets
    behaviours = manager.field_behaviours
    field = widgets["extra__jobs__api"].field
    if AIRFLOW_V_3_2_PLUS:
        assert field["schema"]["enum"] == API_NAMES
    else:
        (choices,) = [v.values for v in field.kwargs["validators"] if hasattr(v, "values")]
        assert choices == API_NAMES
    assert behaviours["jobs"]["relabeling"]["host"] == "Base URL"
    assert behaviours["jobs"]["hidden_fields"] == ["schema"]
    assert "login" not in behaviours["jobs"]["hidden_fields"], "Airbyte client credentials and basic auth need it"


@only_airflow_2
def test_the_airflow_2_connection_form_offers_the_apis_and_refuses_others(airflow_db):
    """2.11 accepts only text-like fields (a select box would drop the whole connection type)."""
    from airflow.www.forms import create_connection_form_class
    from flask import Flask
    from flask_babel import Babel

    app = Flask(__name__)
    app.config["WTF_CSRF_ENABLED"] = False
    Babel(app)

    def form(**data: str) -> Any:
        method = "POST" if data else "GET"
        with app.test_request_context(method=method, data={"conn_id": "c", "conn_type": "jobs", **data}):
            built = create_connection_form_class()()
            built.validate()
            return built

    assert form().extra__jobs__api.data == "tinybird"
    assert form(extra__jobs__api="keboola").errors == {}
    (error,) = form(extra__jobs__api="jenkins").errors["extra__jobs__api"]
    assert all(name in error for name in API_NAMES)
