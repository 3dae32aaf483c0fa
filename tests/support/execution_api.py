"""One in-process Execution API for every dag.test() of a test process, as Airflow 3.3 keeps it.

Airflow 3.1 and 3.2 build a new in-process Execution API server for every task try and every
inline trigger dag.test() runs (``supervisor.in_process_api_server``): a Cadwyn app whose
versioned routers are generated afresh (about 0.5-1 s of CPU each), on an event-loop thread
that is never stopped. Over a suite that is hundreds of leaked threads and apps, and each
dag.test() gets slower than the one before. Airflow 3.3 builds it once per process
(``functools.lru_cache``); this gives 3.1 and 3.2 the same, for tests only. What the tasks
send and receive through it is unchanged: the same app, routes and DB, built once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from airflow_jobs_provider.version_compat import AIRFLOW_V_3_0_PLUS


@functools.lru_cache(maxsize=1)
def _the_api(build: Any) -> Any:
    """The first server ``build`` made; every later call of this process gets it again."""
    return build()


@contextmanager
def one_execution_api_per_process() -> Iterator[None]:
    """While dag.test() runs, every task and trigger talks to one cached in-process Execution API."""
    if not AIRFLOW_V_3_0_PLUS:
        yield  # Airflow 2 runs tasks without an Execution API
        return
    from airflow.sdk.execution_time import supervisor

    build = supervisor.in_process_api_server
    if hasattr(build, "cache_info"):
        yield  # Airflow 3.3+ caches it itself
        return
    with mock.patch.object(supervisor, "in_process_api_server", lambda: _the_api(build)):
        yield
