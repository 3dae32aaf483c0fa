"""A local server speaking real jobs APIs, with scripted job outcomes: Tinybird, Keboola, Airbyte,
Faktory (its TCP protocol, on a port of its own) and "acme", a made-up API that the declarative
REST adapter is configured for.

It is the default backend of the demo and the real server behind our tests. The provider never
imports it. Layout:

- ``server`` builds the aiohttp app (``build_app``) and runs it (``run_emulator``, ``start_app``);
  ``__main__`` is the ``jobs-emulator`` command; ``connections`` holds the Airflow connections that
  point at an emulator;
- ``core/``: what every API shares: the job store, lifecycle and scripts, the access log, fault
  injection and small HTTP helpers;
- one package per API (``tinybird/``, ``keboola/``, ``airbyte/``, ``faktory/``, ``acme/``), each
  registering its routes (or listener) on the app and sharing the one job store;
- ``control/``: the control endpoint under ``/_emulator/`` that scripts jobs, injects faults and
  shows what clients sent, and ``EmulatorServer``, its client.
"""

from __future__ import annotations

from airflow_jobs_provider.emulator.control.client import EmulatorControlError, EmulatorServer
from airflow_jobs_provider.emulator.server import DEFAULT_TOKEN, build_app, run_emulator

__all__ = ["DEFAULT_TOKEN", "EmulatorControlError", "EmulatorServer", "build_app", "run_emulator"]
