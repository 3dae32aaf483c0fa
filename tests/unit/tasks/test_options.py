"""Task options are checked when the DAG is parsed, so mistakes surface before anything runs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_jobs_provider.apis.states import checked_overrides as status_overrides
from airflow_jobs_provider.exceptions import JobsConfigError
from airflow_jobs_provider.tasks.options import optional_seconds, seconds


@pytest.mark.parametrize(("value", "expected"), [(30, 30.0), (0.5, 0.5), (timedelta(minutes=2), 120.0)])
def test_seconds_accepts_numbers_and_timedeltas(value, expected):
    assert seconds(value, "poke_interval") == expected


@pytest.mark.parametrize("value", [0, -1, timedelta(0), "30", None, True])
def test_seconds_refuses_the_rest_naming_the_option(value):
    with pytest.raises(JobsConfigError, match=r"^poke_interval must be a positive number of seconds"):
        seconds(value, "poke_interval")


def test_optional_seconds_keeps_none():
    assert optional_seconds(None, "timeout") is None
    assert optional_seconds(5, "timeout") == 5.0


def test_status_overrides_are_normalised_to_canonical_names():
    assert status_overrides({"queued": "pending", "paused": " Running "}) == {"queued": "PENDING", "paused": "RUNNING"}
    assert status_overrides(None) == {}
