"""The production-shaped deployment is what it claims: PostgreSQL, Celery workers, two triggerers, the wheel."""

from __future__ import annotations

import pytest

from tests.e2e.prod.deployment import TRIGGERERS, WORKERS, ProductionDeployment
from tests.e2e.test_installed import check_installed_from_the_wheel, check_provider_origin

pytestmark = pytest.mark.e2e


def test_postgres_celery_and_two_triggerers_run_the_wheel(deployment: ProductionDeployment):
    assert deployment.api.import_errors() == []
    health = deployment.api.call("GET", "/monitor/health")
    assert {health[part]["status"] for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")} == {
        "healthy"
    }
    assert sorted(deployment.triggerer_jobs[job] for job in deployment.alive_triggerer_jobs()) == list(TRIGGERERS)
    assert deployment.env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert deployment.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    check_installed_from_the_wheel(deployment)

    origin = check_provider_origin(deployment, "origin-celery")
    workers = [name for name in WORKERS if any(f"{name}@" in line for line in origin["parents"])]
    assert len(workers) == 1, f"the task ran in a Celery worker: {origin['parents']}"
