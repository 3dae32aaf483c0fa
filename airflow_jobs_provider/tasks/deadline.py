"""The deadline a deferred watch takes into the triggerer: the earliest of the task's two limits.

Airflow applies ``execution_timeout`` only while the task runs in a worker; the triggerer does
not, so a deferred watch would outlive it, and the job with it (apache/airflow #64048, #61467).
The trigger therefore carries the earliest of the task's own ``timeout`` and the start of
``execute`` plus ``execution_timeout``, and its timeout event says which of the two it was, so
the task fails like a timeout of that kind.
"""

from __future__ import annotations

from datetime import timedelta

EXECUTION_TIMEOUT = "execution_timeout"
OWN_TIMEOUT = "timeout"


def watch_deadline(
    own_deadline: float | None, started: float, execution_timeout: timedelta | None
) -> tuple[float | None, str | None]:
    """``(deadline, which)``: the earlier of the task's own deadline and ``started + execution_timeout``.

    ``started`` is when ``execute`` began, where Airflow starts its own execution_timeout clock.
    ``which`` is OWN_TIMEOUT, EXECUTION_TIMEOUT, or None when there is no deadline at all.
    """
    limit = started + execution_timeout.total_seconds() if execution_timeout is not None else None
    if limit is not None and (own_deadline is None or limit < own_deadline):
        return limit, EXECUTION_TIMEOUT
    if own_deadline is not None:
        return own_deadline, OWN_TIMEOUT
    return None, None


def execution_timeout_error(execution_timeout: timedelta | None, message: str, cancelled: str) -> BaseException:
    """Airflow's own AirflowTaskTimeout, so the task fails (and retries) as a timed-out task does."""
    from airflow.providers.common.compat.sdk import AirflowTaskTimeout

    seconds = execution_timeout.total_seconds() if execution_timeout is not None else 0.0
    return AirflowTaskTimeout(
        f"Timeout: the task's execution_timeout ({seconds:g}s) passed while the triggerer watched the job "
        f"({message}); {cancelled}"
    )
