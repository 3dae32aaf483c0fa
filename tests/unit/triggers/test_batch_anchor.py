"""Where a shared poller's next feed read starts (``next_anchor``): on the API's clock, never skipping."""

from __future__ import annotations

from airflow_jobs_provider.triggers.batch_poller import CLOCK_SLACK, next_anchor
from airflow_jobs_provider.triggers.poll_costs import PollCost


def test_the_first_read_takes_the_apis_time_whatever_our_clock_says():
    assert next_anchor(None, 0.0, 5_000.0, received=10.0) == 5_000.0


def test_a_later_read_moves_with_the_apis_clock():
    assert next_anchor(5_000.0, 10.0, 5_001.0, received=11.2) == 5_001.0


def test_a_date_that_jumps_ahead_of_the_time_that_passed_is_capped():
    assert next_anchor(5_000.0, 10.0, 9_000.0, received=11.0) == 5_000.0 + 1.0 + CLOCK_SLACK


def test_a_date_that_goes_back_is_taken_the_window_only_widens():
    assert next_anchor(5_000.0, 10.0, 4_000.0, received=11.0) == 4_000.0


def test_a_read_without_a_time_keeps_the_anchor():
    assert next_anchor(5_000.0, 10.0, None, received=11.0) == 5_000.0
    assert next_anchor(None, 0.0, None, received=11.0) is None


def test_the_cost_per_job_per_interval_is_requests_over_job_rounds():
    assert PollCost(rounds=4, job_rounds=4_000, requests=40).per_job_per_interval == 0.01
    assert PollCost().per_job_per_interval == 0.0
