"""The deployment runs the provider the way users install it: from the wheel, not the source tree.

``make test-e2e`` builds ``dist/*.whl`` and installs it into ``.venv-e2e``. Here the deployment's
own interpreter, a task process and ``airflow providers list`` must all see that install.
"""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import pytest
import tomllib

from tests.e2e.deployment import ROOT, VENV_BIN, Deployment

pytestmark = pytest.mark.e2e
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


WHERE_FROM = """
import json, pathlib, airflow_jobs_provider
from importlib.metadata import distribution
found = pathlib.Path(airflow_jobs_provider.__file__)
direct_url = distribution("airflow-jobs-provider").read_text("direct_url.json") or ""
print(json.dumps({"file": str(found), "typed": (found.parent / "py.typed").is_file(), "direct_url": direct_url}))
"""
"""Run by the deployment's own interpreter, in its home: where ``import airflow_jobs_provider`` finds it."""


def assert_installed(origin: str) -> None:
    path = Path(origin).resolve()
    assert "site-packages" in path.parts, f"the provider came from {path}, not an installed wheel"
    assert not path.is_relative_to(ROOT / "airflow_jobs_provider"), f"the provider came from the source tree: {path}"


def check_provider_origin(deployment: Deployment, run_id: str) -> dict[str, str]:
    """A task process (a Celery worker's, in the production-shaped deployment) reports where it loaded the provider."""
    deployment.api.trigger("e2e_provider_origin", run_id)
    assert deployment.api.wait_for_run("e2e_provider_origin", run_id) == "success"
    origin: dict[str, str] = deployment.api.xcom("e2e_provider_origin", run_id, "origin")
    assert_installed(origin["file"])
    assert origin["version"] == VERSION
    return origin


def check_installed_from_the_wheel(deployment: Deployment) -> None:
    loaded = json.loads(deployment.python(WHERE_FROM))
    assert_installed(loaded["file"])
    assert Path(loaded["file"]).resolve().is_relative_to(Path(sysconfig.get_paths()["purelib"]).resolve())
    assert loaded["typed"], "py.typed is missing from the installed package"
    assert ".whl" in loaded["direct_url"], f"not installed from a wheel: {loaded['direct_url']}"
    assert "editable" not in loaded["direct_url"]

    providers = json.loads(deployment.airflow_cli("providers", "list", "--output", "json"))
    ours = [provider for provider in providers if provider["package_name"] == "airflow-jobs-provider"]
    assert ours and ours[0]["version"] == VERSION, f"airflow providers list: {providers}"

    emulator = deployment.components["emulator"]
    assert emulator.argv[0] == str(VENV_BIN / "jobs-emulator") and emulator.running


def test_the_provider_is_the_installed_wheel(deployment):
    check_installed_from_the_wheel(deployment)
    check_provider_origin(deployment, "origin-sqlite")
