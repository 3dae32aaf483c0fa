"""The package is a provider Airflow recognises, and provider.yaml says the same as the code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from airflow_jobs_provider.get_provider_info import get_provider_info

ROOT = Path(__file__).resolve().parents[2]


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


def test_job_link_reads_the_job_url_xcom_in_the_serialized_dag():
    """Airflow 3's api-server resolves a link from its serialized xcom_key; ours is job_url."""
    from airflow.serialization.serialized_objects import DagSerialization

    from tests.integration.dagrun import load_dag

    serialized = DagSerialization.to_dict(load_dag("example_tinybird_copy"))
    (start,) = [t["__var"] for t in serialized["dag"]["tasks"] if t["__var"]["task_id"] == "start_copy"]
    assert start["_operator_extra_links"] == {"Job": "job_url"}


def test_connection_form_is_declared_for_the_ui(airflow_db):
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    widgets = manager.connection_form_widgets
    behaviours = manager.field_behaviours
    assert widgets["extra__jobs__api"].field["schema"]["enum"] == ["tinybird", "rest"]
    assert behaviours["jobs"]["relabeling"] == {"host": "Base URL", "password": "API token"}
