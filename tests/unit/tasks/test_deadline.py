"""The deadline a deferred watch carries: the earlier of the task's own timeout and its execution_timeout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_jobs_provider.tasks.deadline import EXECUTION_TIMEOUT, OWN_TIMEOUT, execution_timeout_error, watch_deadline

STARTED = 1_000.0


@pytest.mark.parametrize(
    ("own", "execution_timeout", "expected"),
    [
        (None, None, (None, None)),
        (1_060.0, None, (1_060.0, OWN_TIMEOUT)),
        (None, timedelta(seconds=30), (1_030.0, EXECUTION_TIMEOUT)),
        (1_060.0, timedelta(seconds=30), (1_030.0, EXECUTION_TIMEOUT)),
        (1_020.0, timedelta(seconds=30), (1_020.0, OWN_TIMEOUT)),
        (1_030.0, timedelta(seconds=30), (1_030.0, OWN_TIMEOUT)),  # a tie is the task's own timeout
    ],
)
def test_the_earliest_limit_wins_and_says_which_it_is(own, execution_timeout, expected):
    assert watch_deadline(own, STARTED, execution_timeout) == expected


def test_the_error_is_airflows_own_task_timeout_and_says_what_happened_to_the_job():
    from airflow.providers.common.compat.sdk import AirflowTaskTimeout

    message = "job 7 still RUNNING at the deadline"
    error = execution_timeout_error(timedelta(minutes=2), message, "the job was cancelled")
    assert isinstance(error, AirflowTaskTimeout)
    assert str(error) == (
        "Timeout: the task's execution_timeout (120s) passed while the triggerer watched the job "
        "(job 7 still RUNNING at the deadline); the job was cancelled"
    )
