"""A local server speaking real jobs APIs (Tinybird, Acme Batch) with scripted job outcomes.

It is the default backend of the demo and the real server behind our tests: each API lives in
one module that registers its routes, all of them share one job store, and the control
endpoint under ``/_emulator/`` scripts jobs and shows what clients sent.
"""

from __future__ import annotations

from airflow_jobs_provider.emulator.control_client import EmulatorControlError, EmulatorServer
from airflow_jobs_provider.emulator.server import DEFAULT_TOKEN, build_app, run_emulator

__all__ = ["DEFAULT_TOKEN", "EmulatorControlError", "EmulatorServer", "build_app", "run_emulator"]
