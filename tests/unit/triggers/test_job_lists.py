"""The shared stream's coverage (triggers/job_lists.py): how far back each poll reads, with no I/O."""

from __future__ import annotations

from airflow_jobs_provider.apis.paging import ListWindow
from airflow_jobs_provider.triggers.job_lists import LIST_OVERLAP, TIE, Coverage
from airflow_jobs_provider.triggers.jobs import covers

NOW = 1_800_000_000.0


def test_a_fresh_watcher_reads_from_its_start_and_is_covered_by_the_first_complete_poll() -> None:
    coverage = Coverage()
    _, generation = coverage.join(NOW)
    since = coverage.top_window(NOW)
    assert since == NOW - LIST_OVERLAP
    coverage.after_top(ListWindow(newest=NOW - 1, server_time=NOW), since)
    assert coverage.backlog_window(NOW) is None
    job_list = coverage.job_list("keboola", ())
    assert covers(job_list, generation, NOW) and job_list.resume_at == NOW - LIST_OVERLAP


def test_a_restarted_watcher_gets_its_backlog_read_and_is_covered_only_then() -> None:
    coverage = Coverage()
    coverage.join(NOW)
    coverage.after_top(ListWindow(server_time=NOW), coverage.top_window(NOW))
    _, generation = coverage.join(NOW - 3600)  # a cursor from an hour ago
    top_since = coverage.top_window(NOW + 30)
    coverage.after_top(ListWindow(server_time=NOW + 30), top_since)
    assert not covers(coverage.job_list("keboola", ()), generation, NOW - 3600)
    assert coverage.backlog_window(NOW + 30) == (NOW - 3600, top_since + TIE)
    coverage.after_backlog(ListWindow(complete=False, oldest=NOW - 1800), NOW - 3600)  # the budget ran out
    assert not covers(coverage.job_list("keboola", ()), generation, NOW - 3600)
    assert coverage.backlog_window(NOW + 60) == (NOW - 3600, NOW - 1800 + TIE), "the next poll reads on from there"
    coverage.after_backlog(ListWindow(), NOW - 3600)
    assert covers(coverage.job_list("keboola", ()), generation, NOW - 3600)


def test_a_top_read_cut_by_the_budget_leaves_the_gap_as_backlog() -> None:
    coverage = Coverage()
    token, _ = coverage.join(NOW)
    coverage.after_top(ListWindow(server_time=NOW), coverage.top_window(NOW))
    coverage.update(token, NOW - LIST_OVERLAP)
    coverage.after_top(ListWindow(complete=False, oldest=NOW + 20, newest=NOW + 30), NOW - LIST_OVERLAP)
    assert coverage.backlog_window(NOW + 30) == (NOW - LIST_OVERLAP, NOW + 20 + TIE)


def test_a_watcher_that_joins_later_does_not_trust_the_lists_of_before() -> None:
    coverage = Coverage()
    _, first = coverage.join(NOW)
    coverage.after_top(ListWindow(server_time=NOW), coverage.top_window(NOW))
    old_list = coverage.job_list("airbyte", ())
    _, second = coverage.join(NOW)
    assert covers(old_list, first, NOW) and not covers(old_list, second, NOW)


def test_top_reads_never_move_back() -> None:
    coverage = Coverage()
    coverage.join(NOW)
    coverage.after_top(ListWindow(newest=NOW), NOW - 100)
    coverage.after_top(ListWindow(newest=NOW - 50), coverage.top_window(NOW))
    assert coverage.top_window(NOW) == NOW - LIST_OVERLAP
