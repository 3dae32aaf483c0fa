"""The one soft_fail / never_fail rule, and the paths after a deferral that no DAG run in a test reaches.

dag.test() runs a deferred trigger in line and enforces no deferral timeout, so the scheduler's
resume with ``__fail__`` (deferral timed out, trigger crashed) is driven here directly.
"""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
)

from airflow_jobs_provider.exceptions import (
    JobCancelledError,
    JobFailedError,
    JobNotFoundError,
    JobsAuthError,
    JobsConfigError,
    JobsUnavailableError,
    UnknownJobStateError,
)
from airflow_jobs_provider.sensors.jobs import JobSensor
from airflow_jobs_provider.tasks.soft_fail import AIRFLOW2_DEFERRAL_TIMEOUT, TaskDeferralError, is_timeout, skip_for
from airflow_jobs_provider.version_compat import AIRFLOW_V_3_0_PLUS

OUTCOMES = [JobFailedError("f"), JobCancelledError("c"), UnknownJobStateError("u")]
TIMEOUTS = [AirflowSensorTimeout("s"), AirflowTaskTimeout("t"), TaskDeferralError(AIRFLOW2_DEFERRAL_TIMEOUT)]
ERRORS = [JobNotFoundError("404"), JobsAuthError("401"), JobsUnavailableError("5xx"), JobsConfigError("x"),
          AirflowException("a"), RuntimeError("bug"), TaskDeferralError("Trigger failure")]  # fmt: skip


@pytest.mark.parametrize("error", OUTCOMES + TIMEOUTS, ids=repr)
def test_outcomes_and_timeouts_skip_with_either_flag(error):
    assert skip_for(error, soft_fail=False, never_fail=False) is None
    assert "soft_fail" in str(skip_for(error, soft_fail=True, never_fail=False))
    assert "never_fail" in str(skip_for(error, soft_fail=False, never_fail=True))


@pytest.mark.parametrize("error", ERRORS, ids=repr)
def test_other_errors_skip_with_never_fail_only(error):
    assert skip_for(error, soft_fail=False, never_fail=False) is None
    assert skip_for(error, soft_fail=True, never_fail=False) is None, "its retries apply"
    assert isinstance(skip_for(error, soft_fail=False, never_fail=True), AirflowSkipException)


@pytest.mark.parametrize("error", [AirflowSkipException("s"), KeyboardInterrupt(), SystemExit(1)], ids=repr)
def test_control_flow_passes(error):
    assert skip_for(error, soft_fail=True, never_fail=False) is None
    assert skip_for(error, soft_fail=False, never_fail=True) is None


def sensor(**flags: bool) -> JobSensor:
    return JobSensor(task_id="wait", job_id="j1", deferrable=True, poke_interval=1, timeout=60, **flags)


# What the scheduler resumes a deferred task with when the deferral's own timeout passed.
DEFERRAL_TIMEOUT = "Trigger timeout" if AIRFLOW_V_3_0_PLUS else AIRFLOW2_DEFERRAL_TIMEOUT


@pytest.mark.parametrize(("flags", "ends"), [({}, AirflowSensorTimeout), ({"soft_fail": True}, AirflowSkipException),
                                             ({"never_fail": True}, AirflowSkipException)])  # fmt: skip
def test_a_deferral_timed_out_in_the_scheduler_is_a_sensor_timeout(flags, ends):
    """2.11 resumed it as a TaskDeferralError, and never applied never_fail after a deferral."""
    with pytest.raises(ends):
        sensor(**flags).resume_execution("__fail__", {"error": DEFERRAL_TIMEOUT}, {})  # type: ignore[arg-type]


@pytest.mark.parametrize(("flags", "ends"), [({}, TaskDeferralError), ({"soft_fail": True}, TaskDeferralError),
                                             ({"never_fail": True}, AirflowSkipException)])  # fmt: skip
def test_a_trigger_that_crashed_is_an_error_not_an_outcome(flags, ends):
    with pytest.raises(ends):
        sensor(**flags).resume_execution("__fail__", {"error": "Trigger failure"}, {})  # type: ignore[arg-type]


@pytest.mark.parametrize(("flags", "ends"), [({}, AirflowTaskTimeout), ({"soft_fail": True}, AirflowSkipException),
                                             ({"never_fail": True}, AirflowSkipException)])  # fmt: skip
def test_an_execution_timeout_event_after_a_deferral(flags, ends):
    """AirflowTaskTimeout is a BaseException: Airflow's resume_execution let it past both flags."""
    event = {"status": "timeout", "job_id": "j1", "message": "late", "deadline_source": "execution_timeout"}
    with pytest.raises(ends):
        sensor(**flags).resume_execution("execute_complete", {"event": event}, {})  # type: ignore[arg-type]


@pytest.mark.parametrize(("flags", "ends"), [({}, JobsUnavailableError), ({"soft_fail": True}, JobsUnavailableError),
                                             ({"never_fail": True}, AirflowSkipException)])  # fmt: skip
def test_an_api_error_event_after_a_deferral(flags, ends):
    """Airflow's resume_execution skipped it with soft_fail, where poke mode failed: now both fail."""
    event = {"status": "error", "job_id": "j1", "message": "down", "error_class": "JobsUnavailableError"}
    with pytest.raises(ends):
        sensor(**flags).resume_execution("execute_complete", {"event": event}, {})  # type: ignore[arg-type]


def test_a_malformed_event_is_an_error_not_an_outcome():
    with pytest.raises(AirflowException, match="unexpected trigger event"):
        sensor(soft_fail=True).resume_execution("execute_complete", {"event": {"status": "done"}}, {})  # type: ignore[arg-type]


@pytest.mark.parametrize("flag", ["soft_fail", "never_fail"])
def test_airflows_skip_of_an_execution_timeout_inside_poke_is_a_timeout(flag):
    """SIGALRM during a poke's request: BaseSensorOperator makes it a skip, the timeout its cause."""
    try:
        try:
            raise AirflowTaskTimeout("Timeout, PID: 1")
        except AirflowTaskTimeout as timeout:
            raise AirflowSkipException(f"Skipping due to {flag} is set to True.") from timeout
    except AirflowSkipException as skip:
        assert is_timeout(skip)


def test_a_skip_for_another_reason_is_not_a_timeout():
    assert not is_timeout(AirflowSkipException("Skipping due to never_fail is set to True."))
