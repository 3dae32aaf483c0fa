"""The benchmark's report: ratios are ours / peer from the runs given, and a figure with no run is "not measured".

One function each (report.summarize, scale.optional) on synthetic runs: no emulator, no watcher.
"""

from __future__ import annotations

from typing import Any

from benchmarks import report, scale

PARSE = {"best_ms": 9.0, "heavy_modules_loaded": [], "modules": [], "runs": 1}


def run(
    contender: str, watches: int, cpu_per_1000: float | None, requests_per_job: float, **extra: Any
) -> dict[str, Any]:
    """A run as scale.derive reports it, with the fields summarize reads."""
    return {
        "contender": contender,
        "watches": watches,
        "interval_s": 10.0,
        "cpu_s_per_1000_polls": cpu_per_1000,
        "cpu_ms_per_watch_interval": cpu_per_1000,
        "requests_per_job_per_interval": requests_per_job,
        "loop_lag_ms": {"p50": 0.1, "p99": extra.pop("lag_p99", 1.0), "max": 2.0},
        "detection_latency_ms": {"p50": 5000.0, "p99": extra.pop("detect_p99", 9900.0), "max": 9950.0},
        "undetected": 0,
        "failed": 0,
        "early": 0,
        "bytes_rss_per_watch": 9000,
        **extra,
    }


def test_ratios_are_ours_over_the_peer_of_the_same_size_and_missing_figures_say_so() -> None:
    runs = [
        run("ours", 1000, 0.2, 1.0),
        run("airbyte", 1000, 1.0, 1.0),
        run("ours_batched", 1000, 0.02, 0.01, detect_p99=10040.0),
        run("ours_batched_airbyte", 1000, 0.05, 0.02),
        run("ours_tls", 1000, 0.3, 1.0),
        run("session_per_poll_tls", 1000, 1.2, 1.0),
    ]
    held = [run("ours_batched", 30000, 0.01, 0.01, lag_p99=20.0, hold=True)]

    summary = report.summarize(runs, PARSE, 10.0, 1000, capacity_runs=held, extras={})

    assert summary["cpu_per_poll_ratio_vs_airbyte"] == round(0.2 / 1.0, 3)
    assert summary["tls_cpu_per_poll_ratio_vs_session_per_poll"] == round(0.3 / 1.2, 3)
    assert summary["cpu_per_watch_interval_ratio_vs_airbyte"] == round(0.05 / 1.0, 4)
    assert summary["requests_per_job_per_interval_batched_by_api"] == {
        "tinybird": report.NOT_MEASURED, "keboola": 0.01, "airbyte": 0.02, "rest": report.NOT_MEASURED,
    }  # fmt: skip
    assert summary["detection_latency_p99_over_interval_ms_batched"] == 10040.0 - 10000.0
    assert summary["max_watches_60s_interval_lag_p99_under_100ms"] == 30000
    assert summary["cpu_per_poll_ratio_vs_session_per_poll"] is None  # no plain session-per-poll run
    for key in ("startup_lag_p99_ms_10000", "startup_seconds_to_all_polling_10000", "worker_slot_seconds_per_watch"):
        assert summary[key] == report.NOT_MEASURED
    met = {target["key"]: target["met"] for target in summary["targets"]}
    assert met["requests_per_job_per_interval_batched_by_api.keboola"] is True
    assert met["requests_per_job_per_interval_batched_by_api.tinybird"] is False
    assert met["worker_slot_seconds_per_watch"] is False
    assert met["max_watches_60s_interval_lag_p99_under_100ms"] is False  # 30,000 < 100,000


def test_a_capacity_run_over_the_lag_limit_is_not_held() -> None:
    assert report.held(run("ours_batched", 100_000, 0.01, 0.01, lag_p99=99.0))
    assert not report.held(run("ours_batched", 100_000, 0.01, 0.01, lag_p99=150.0))


def test_figures_of_another_benchmark_module_are_taken_when_it_reports_them() -> None:
    restart = {"startup_lag_p99_ms_10000": 42.0, "startup_seconds_to_all_polling_10000": 8.0, "interval_s": 10.0}
    extras = {
        "restart": {"measured": True, **restart},
        "worker_slots": {"measured": True, "worker_slot_seconds_per_watch": 0},
    }

    summary = report.summarize([run("ours", 1000, 0.2, 1.0)], PARSE, 10.0, 1000, extras=extras)

    assert (summary["startup_lag_p99_ms_10000"], summary["startup_seconds_to_all_polling_10000"]) == (42.0, 8.0)
    met = {target["key"]: target["met"] for target in summary["targets"]}
    assert met["startup_lag_p99_ms_10000"] and met["startup_seconds_to_all_polling_10000"]
    assert met["worker_slot_seconds_per_watch"]


def test_an_absent_benchmark_module_is_not_measured() -> None:
    result = scale.optional("no_such_benchmark_module")

    assert result == {"measured": False, "why": "benchmarks/no_such_benchmark_module.py is not there"}


def test_a_failing_benchmark_module_is_not_measured_and_says_why(monkeypatch) -> None:
    import sys
    import types

    module = types.ModuleType("benchmarks.failing_bench")

    def run(**kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("no emulator")

    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "benchmarks.failing_bench", module)

    result = scale.optional("failing_bench", watches=10)

    assert result["measured"] is False
    assert "no emulator" in result["why"]
