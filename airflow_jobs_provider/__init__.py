"""Airflow provider that starts background jobs on jobs APIs and watches them to the end."""

from __future__ import annotations

__version__ = "0.1.0"
