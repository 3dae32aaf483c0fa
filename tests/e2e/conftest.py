"""The end-to-end suite's session: one live deployment for all e2e tests, torn down whatever happens.

The suite is opt-in: without ``JOBS_E2E=1`` (``make test-e2e`` sets it) its tests are skipped,
so ``make test`` stays fast and needs no free ports or spare cores.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
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
    "e2e_triggerer_only",
    "e2e_triggerer_only_soft_fail",
    "e2e_triggerer_only_times_out",
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
    """The SQLite deployment; ``tests/e2e/prod/conftest.py`` overrides it with the production-shaped one."""
    yield from serve(request, Deployment(), DAG_IDS)


def serve(request: pytest.FixtureRequest, live: Deployment, dag_ids: tuple[str, ...]) -> Iterator[Deployment]:
    """Start ``live`` once; stop it and check no process is left, even on failure.

    SIGTERM (a CI job cancelled, a ``timeout`` wrapper) becomes KeyboardInterrupt, so this
    teardown still runs; the components run in sessions of their own and never see the signal.
    """
    previous = signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    try:
        live.start(dag_ids)
        WALL_TIMES.append((f"start the {type(live).__name__}", time.monotonic() - started))
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


WALL_TIMES: list[tuple[str, float]] = []
"""(what, seconds) for the deployment's start-up and each e2e case, printed at the end of the session."""


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and "e2e" in report.keywords:
        WALL_TIMES.append((f"{report.nodeid.split('::')[-1]} [{report.outcome}]", report.duration))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if WALL_TIMES:
        terminalreporter.section("e2e wall times")
        for what, seconds in WALL_TIMES:
            terminalreporter.write_line(f"{seconds:7.1f} s  {what}")


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
