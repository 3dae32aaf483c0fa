"""The context a trigger started by the scheduler renders the task's templated fields with.

Airflow 3.3.2's triggerer renders them (``start_from_trigger``) with the task instance's context,
but its supervisor answers only some requests of a task: ``ti.xcom_pull(task_ids=..., key=...)``
without ``map_indexes`` reads every map index (``GetXComSequenceSlice``), which the triggerer's
supervisor cannot decode, and the read never returns: the watch would hang before its first
poll. The usual JobSensor template is exactly that read of the start task's ``job_id``, so the
context's task instance reads one XCom (``map_indexes=-1``, ``GetXCom``, which the triggerer
answers) when no map index is given: for the unmapped upstream task it is the same value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNMAPPED = -1


class SingleXComReads:
    """The task instance, whose ``xcom_pull`` reads the unmapped XCom unless told which map indexes."""

    def __init__(self, ti: Any) -> None:
        self._ti = ti

    def xcom_pull(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("map_indexes", UNMAPPED)
        return self._ti.xcom_pull(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ti, name)


def triggerer_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """``context`` with its task instance reading single XComs (see the module docstring)."""
    rendered = dict(context)
    for key in ("ti", "task_instance"):
        if rendered.get(key) is not None:
            rendered[key] = SingleXComReads(rendered[key])
    return rendered
