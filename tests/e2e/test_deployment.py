"""The deployment itself: every example DAG file and e2e DAG file parses in the live dag-processor."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.deployment import E2E_DAGS, ROOT

pytestmark = pytest.mark.e2e


def test_every_dag_file_parses_and_defines_dags(deployment):
    assert deployment.api.import_errors() == []
    files_with_dags = {Path(dag["fileloc"]).name for dag in deployment.api.call("GET", "/dags?limit=1000")["dags"]}
    for path in [*(ROOT / "example_dags").glob("example_*.py"), *E2E_DAGS.glob("*.py")]:
        assert path.name in files_with_dags, f"{path.name} defines no DAG"
