"""The one place that knows which Airflow version is installed.

Airflow classes come from ``airflow.providers.common.compat.sdk`` (it picks the Airflow 3 Task SDK
or the Airflow 2 path itself); this module only answers "is this Airflow new enough for X?". Like
the official providers, we compute the flags from the installed version instead of importing
another provider's private constants.

What differs, and where it is handled:

- 3.3+: the task state store (``context["task_state_store"]``) lets a retried
  ``TriggerJobOperator`` reconnect to the job an earlier try started; before 3.3 the key is
  absent and every try starts a new job (operators/jobs.py).
- 3.3+: the scheduler starts a deferrable JobSensor in the triggerer (``start_from_trigger``, its
  templated fields rendered there), and the trigger ends the task; 3.1 and 3.2 turned the
  scheduler's side off, 2.11 does not render the fields (tasks/start_from_trigger.py).
- 3.3+: the triggerer calls ``BaseTrigger.on_kill()`` when a user kills a deferred task; before
  3.3 nothing calls it and the job keeps running (triggers/jobs.py).
- 3.2+: the connection form comes from ``conn-fields`` in provider info; before, from the hook's
  ``get_connection_form_widgets()`` / ``get_ui_field_behaviour()`` (hooks/jobs.py).
- 3.1+: ``BaseHook.aget_connection`` resolves a connection without blocking the triggerer's loop;
  on 2.11 and 3.0 (no async lookup) the sync lookup runs in a worker thread instead (hooks/jobs.py,
  on ``AIRFLOW_V_3_1_PLUS``).
- 3.0+: ``BaseEventTrigger`` (asset watchers); on 2.11 ``JobEventTrigger`` stands on ``BaseTrigger``
  so that it still imports (triggers/jobs.py, on ``AIRFLOW_V_3_0_PLUS``).
- 3.0+: the Task SDK's exceptions (``airflow.sdk.exceptions``); a deferral that timed out resumes as
  ``TaskDeferralTimeout`` on 3.x and as ``TaskDeferralError("Trigger/execution timeout")`` on 2.11,
  which the sensors read alike (tasks/soft_fail.py, on ``AIRFLOW_V_3_0_PLUS``).

Where a feature is an object Airflow hands us (the task state store in the context), the code
asks for the object itself rather than the version: that stays right on back-ported builds.
"""

from __future__ import annotations

from airflow import __version__ as AIRFLOW_VERSION
from packaging.version import Version


def _base_version(version: str) -> tuple[int, int, int]:
    """``3.3.0rc1`` or ``3.3.0.dev0`` count as 3.3.0: pre-releases carry the new features."""
    parsed = Version(version)
    return parsed.major, parsed.minor, parsed.micro


AIRFLOW_VERSION_TUPLE = _base_version(AIRFLOW_VERSION)
AIRFLOW_V_3_0_PLUS = AIRFLOW_VERSION_TUPLE >= (3, 0, 0)
AIRFLOW_V_3_1_PLUS = AIRFLOW_VERSION_TUPLE >= (3, 1, 0)
AIRFLOW_V_3_2_PLUS = AIRFLOW_VERSION_TUPLE >= (3, 2, 0)
AIRFLOW_V_3_3_PLUS = AIRFLOW_VERSION_TUPLE >= (3, 3, 0)

__all__ = [
    "AIRFLOW_VERSION",
    "AIRFLOW_VERSION_TUPLE",
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_1_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
]
