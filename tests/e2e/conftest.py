"""The end-to-end suite's session: one live deployment for all e2e tests, torn down whatever happens.

The suite is opt-in: without ``JOBS_E2E=1`` (``make test-e2e`` sets it) its tests are skipped,
so ``make test`` stays fast and needs no free ports or spare cores.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.deployment import Deployment

DAG_IDS = (
    "example_deferrable_monitor",
    "e2e_watch",
    "e2e_watch_soft_fail",
    "e2e_watch_no_cancel",
    "e2e_watch_times_out",
    "e2e_watch_times_out_cancels",
    "e2e_worker_death",
    "e2e_provider_origin",
)


def enabled() -> bool:
    return os.environ.get("JOBS_E2E") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if enabled():
        return
    skip = pytest.mark.skip(reason="end-to-end suite: run it with `make test-e2e` (sets JOBS_E2E=1)")
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def deployment(request: pytest.FixtureRequest) -> Iterator[Deployment]:
    """Start Airflow and the emulator once; stop them and check no process is left, even on failure.

    SIGTERM (a CI job cancelled, a ``timeout`` wrapper) becomes KeyboardInterrupt, so this
    teardown still runs; the components run in sessions of their own and never see the signal.
    """
    previous = signal.signal(signal.SIGTERM, _interrupt)
    live = Deployment()
    try:
        live.start(DAG_IDS)
        yield live
    finally:
        killed = live.stop()
        left = live.live_processes()
        failed = request.session.testsfailed or left
        if failed or os.environ.get("JOBS_E2E_KEEP") == "1":
            print(f"\ne2e: logs kept in {live.home}; leftovers killed at teardown: {killed or 'none'}")
        else:
            shutil.rmtree(live.home, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)
        assert not left, f"{left} deployment processes survived the teardown"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    """A failed e2e test's report carries the tail of every component's log."""
    report = yield
    live = getattr(item, "funcargs", {}).get("deployment")
    if report.failed and isinstance(live, Deployment):
        report.sections.append(("deployment logs", live.diagnostics()))
    return report
