"""``soft_fail`` and ``never_fail``, applied by one rule on every path of a sensor, in every mode.

Airflow applies the two flags in two places, and each misses paths (apache/airflow's
``BaseSensorOperator``, 2.11 and 3.x):

- ``execute`` applies them only to what ``poke()`` raises. An ``execution_timeout`` that fires
  while a poke-mode sensor sleeps between pokes escapes them, and so does anything a deferrable
  sensor raises before it defers (its first look at the job).
- ``resume_execution`` (after a deferral) applies them to ``AirflowException`` only. An
  ``AirflowTaskTimeout`` (a ``BaseException``) escapes them; on 2.11 ``never_fail`` is not
  applied at all, and a deferral that timed out in the scheduler is a ``TaskDeferralError``,
  not a sensor timeout.
- In poke mode ``soft_fail`` skips job outcomes and timeouts only, but after a deferral it skips
  any ``AirflowException``: an API error skipped a deferrable sensor and failed a poking one.

The rule, the same wherever the error comes from:

- ``soft_fail`` skips a job outcome (``AirflowFailException``: FAILED, CANCELLED, an unknown
  state) and a timeout (the sensor's ``timeout``, ``execution_timeout``, a deferral timeout).
  Other errors (an API error, a configuration error) still fail the task, and its retries apply.
- ``never_fail`` skips on any error.
- Airflow's own control flow (skip, reschedule, deferral, a kill) passes unchanged.
"""

from __future__ import annotations

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
)

from airflow_jobs_provider.version_compat import AIRFLOW_V_3_2_PLUS

if AIRFLOW_V_3_2_PLUS:
    from airflow.sdk.exceptions import AirflowRescheduleException, TaskDeferralError
else:  # Airflow 2.11 and 3.1: the Task SDK raises these from airflow.exceptions
    from airflow.exceptions import AirflowRescheduleException, TaskDeferralError  # type: ignore[no-redef]

AIRFLOW2_DEFERRAL_TIMEOUT = "Trigger/execution timeout"
"""The error Airflow 2.11's scheduler resumes a deferral with when its timeout passed."""
SENSOR_TIMEOUT_SKIP = "Sensor has timed out"
"""How Airflow's own skip for a poke/reschedule timeout with ``soft_fail`` begins (it has no cause)."""


def is_deferral_timeout(error: BaseException) -> bool:
    """The scheduler ended a deferral at its timeout: ``TaskDeferralTimeout`` (3.x) or 2.11's ``TaskDeferralError``."""
    if type(error).__name__ == "TaskDeferralTimeout":
        return True
    return isinstance(error, TaskDeferralError) and AIRFLOW2_DEFERRAL_TIMEOUT in str(error)


def is_timeout(error: BaseException) -> bool:
    """A timeout of any kind, or the skip Airflow already made of a sensor timeout."""
    if isinstance(error, (AirflowSensorTimeout, AirflowTaskTimeout)) or is_deferral_timeout(error):
        return True
    if isinstance(error, AirflowSkipException):
        # an execution_timeout that fires inside poke() reaches us as that skip, the timeout its cause
        timed_out = isinstance(error.__cause__, (AirflowSensorTimeout, AirflowTaskTimeout))
        return timed_out or str(error).startswith(SENSOR_TIMEOUT_SKIP)
    return False


def _control_flow(error: BaseException) -> bool:
    return isinstance(error, (AirflowSkipException, AirflowRescheduleException)) or type(error).__name__ in (
        "DownstreamTasksSkipped",
        "TaskDeferred",
    )


def skip_for(error: BaseException, *, soft_fail: bool, never_fail: bool) -> AirflowSkipException | None:
    """The skip the flags make of ``error``, or None when the task should end with ``error`` itself."""
    if _control_flow(error) or not isinstance(error, (Exception, AirflowTaskTimeout)):
        return None  # TaskDeferred, a kill, SystemExit, KeyboardInterrupt: not an outcome
    skippable = isinstance(error, AirflowFailException) or is_timeout(error)
    if soft_fail and skippable:
        flag = "soft_fail"
    elif never_fail:
        flag = "never_fail"
    else:
        return None
    return AirflowSkipException(f"Skipping due to {flag} is set to True: {type(error).__name__}: {error}")
