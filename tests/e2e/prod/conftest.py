"""The production-shaped deployment's session: the ``deployment`` fixture here is PostgreSQL + Celery.

``make test-e2e`` runs this folder in a pytest session of its own, after the SQLite one has
stopped, so the two deployments never share the 2 cores.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import serve
from tests.e2e.prod.deployment import TRIGGERERS, WORKERS, ProductionDeployment

DAG_IDS = (
    "e2e_watch",
    "e2e_deferred_start",
    "e2e_worker_death",
    "e2e_keboola_watch",
    "e2e_provider_origin",
    "example_event_producer",
    "example_event_consumer",
)


@pytest.fixture(scope="session")
def deployment(request: pytest.FixtureRequest) -> Iterator[ProductionDeployment]:
    yield from serve(request, ProductionDeployment(), DAG_IDS)  # type: ignore[misc]


@pytest.fixture(autouse=True)
def components_come_back(deployment: ProductionDeployment) -> Iterator[None]:
    """Whatever a case killed, the next case has both triggerers and both workers again."""
    yield
    for name in (*TRIGGERERS, *WORKERS):
        if not deployment.components[name].running:
            deployment.restart(name)
