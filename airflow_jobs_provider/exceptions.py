"""Errors a DAG author sees; each names the problem and the way out.

Job outcomes (failed, cancelled, unknown state) derive from AirflowFailException: a sensor's
``soft_fail`` only turns that family into a skip in poke mode, and retrying a sensor on a job
that has already failed cannot change the answer.
"""

from __future__ import annotations

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException


class JobsError(AirflowException):
    """Any problem talking to a jobs API or reading its answer."""


class JobsConfigError(JobsError):
    """The connection or the task's options are wrong; fix them and run again."""


class InvalidJobIdError(JobsConfigError):
    """The job id cannot be sent safely; it would change the endpoint or is empty."""


class JobsApiError(JobsError):
    """The API answered with an error that retrying will not fix."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.http_status = status_code


class JobsAuthError(JobsApiError):
    """The API refused the token (401/403)."""


class JobNotFoundError(JobsApiError):
    """The API does not know the job id."""


class JobsUnavailableError(JobsError):
    """The API kept failing (5xx, 429, resets, timeouts) after every retry."""


class JobStartUncertainError(JobsUnavailableError, AirflowFailException):
    """A start request failed after it may have reached the API, so the job may exist.

    Neither the request nor the task is retried (AirflowFailException skips task retries): a
    retry could start a second job. The message says how to look for the first one.
    """


class JobAlreadyRunningError(JobsError):
    """``TriggerJobOperator(if_running="fail")`` found a job of the same target running.

    A plain AirflowException: the task's retries apply, and a later try may find the job ended.
    """


class JobOutcomeError(AirflowFailException):
    """Base for a job that ended in a state the task does not accept."""


class JobFailedError(JobOutcomeError):
    """The job ended FAILED; the message carries the API's own error text."""


class JobCancelledError(JobOutcomeError):
    """The job ended CANCELLED."""


class UnknownJobStateError(JobOutcomeError):
    """The API reported a raw state the task's state map does not know."""
