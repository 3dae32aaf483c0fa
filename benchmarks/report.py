"""The triggerer-scale results: headline numbers and ratios, targets met or not, a table and a chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

LABELS = {
    "ours": "JobStatusTrigger (ours)",
    "ours_batched": "JobStatusTrigger, batched (Keboola)",
    "airbyte": "AirbyteSyncTrigger",
    "session_per_poll": "session per poll (dbt/HTTP)",
    "floor": "floor (bare GET loop)",
}
BATCHED_AT = 1000
"""The batched target is stated for 1,000 watched jobs."""


def summarize(runs: list[dict[str, Any]], parse: dict[str, Any], interval: float, slow_peer_max: int) -> dict[str, Any]:
    by = {(run["watches"], run["contender"]): run for run in runs}
    sizes = sorted({run["watches"] for run in runs})

    def cpu(size: int, contender: str) -> float | None:
        run = by.get((size, contender))
        return run["cpu_s_per_1000_polls"] if run else None

    def ratio(size: int, peer: str) -> float | None:
        ours, theirs = cpu(size, "ours"), cpu(size, peer)
        return round(ours / theirs, 3) if ours and theirs else None

    def largest(peer: str) -> int | None:
        both = [size for size in sizes if (size, "ours") in by and (size, peer) in by]
        return max(both) if both else None

    ratios = {
        str(size): {"vs_airbyte": ratio(size, "airbyte"), "vs_session_per_poll": ratio(size, "session_per_poll"),
                    "to_floor": ratio(size, "floor")}
        for size in sizes
    }  # fmt: skip
    ours = [by[(size, "ours")] for size in sizes if (size, "ours") in by]
    top = ours[-1] if ours else None
    lag_ok = [run["watches"] for run in ours if run["loop_lag_ms"]["p99"] < 100 and not run["undetected"]]
    batched = [by[(size, "ours_batched")] for size in sizes if (size, "ours_batched") in by]
    batched_at = next((run for run in batched if run["watches"] == BATCHED_AT), batched[-1] if batched else None)
    airbyte_at, per_poll_at, floor_at = largest("airbyte"), largest("session_per_poll"), largest("floor")

    headline = {
        "cpu_per_poll_ratio_vs_airbyte": ratio(airbyte_at, "airbyte") if airbyte_at else None,
        "cpu_per_poll_ratio_vs_session_per_poll": ratio(per_poll_at, "session_per_poll") if per_poll_at else None,
        "cpu_per_poll_ratio_to_floor": ratio(floor_at, "floor") if floor_at else None,
        "max_watches_with_lag_p99_under_100ms": max(lag_ok) if lag_ok else 0,
        "detection_latency_p99_over_interval_ms": (
            round(top["detection_latency_ms"]["p99"] - interval * 1000, 1) if top else None
        ),
        "bytes_rss_per_watch": top["bytes_rss_per_watch"] if top else None,
        "import_overhead_ms": parse["best_ms"],
        "requests_per_job_per_interval_batched": batched_at["requests_per_job_per_interval"] if batched_at else None,
    }
    measured_at = {
        "cpu_per_poll_ratio_vs_airbyte": airbyte_at,
        "cpu_per_poll_ratio_vs_session_per_poll": per_poll_at,
        "cpu_per_poll_ratio_to_floor": floor_at,
        "detection_latency_p99_over_interval_ms": top["watches"] if top else None,
        "bytes_rss_per_watch": top["watches"] if top else None,
        "requests_per_job_per_interval_batched": batched_at["watches"] if batched_at else None,
    }
    return {
        **headline,
        "measured_at_watches": measured_at,
        "targets": targets(headline, parse, sizes),
        "interval_s": interval,
        "ratios_ours_over_peer_by_watches": ratios,
        "runs": runs,
        "dag_parse": parse,
        "notes": notes(sizes, slow_peer_max, runs),
    }


def targets(headline: dict[str, Any], parse: dict[str, Any], sizes: list[int]) -> list[dict[str, Any]]:
    def check(name: str, goal: str, value: Any, met: bool) -> dict[str, Any]:
        return {"target": goal, "key": name, "measured": value, "met": bool(met)}

    def at_most(value: Any, limit: float) -> bool:
        return value is not None and value <= limit

    return [
        check("max_watches_with_lag_p99_under_100ms", "10,000 watches at one interval with loop lag p99 < 100 ms",
              headline["max_watches_with_lag_p99_under_100ms"],
              headline["max_watches_with_lag_p99_under_100ms"] >= 10000),
        check("cpu_per_poll_ratio_vs_airbyte", "CPU per poll >= 10x below AirbyteSyncTrigger (ratio <= 0.1)",
              headline["cpu_per_poll_ratio_vs_airbyte"], at_most(headline["cpu_per_poll_ratio_vs_airbyte"], 0.1)),
        check("cpu_per_poll_ratio_vs_session_per_poll", "CPU per poll >= 3x below session-per-poll (ratio <= 0.333)",
              headline["cpu_per_poll_ratio_vs_session_per_poll"],
              at_most(headline["cpu_per_poll_ratio_vs_session_per_poll"], 1 / 3)),
        check("cpu_per_poll_ratio_to_floor", "CPU per poll within 1.5x of the floor",
              headline["cpu_per_poll_ratio_to_floor"], at_most(headline["cpu_per_poll_ratio_to_floor"], 1.5)),
        check("detection_latency_p99_over_interval_ms", "detection latency p99 <= interval + 100 ms",
              headline["detection_latency_p99_over_interval_ms"],
              at_most(headline["detection_latency_p99_over_interval_ms"], 100)),
        check("bytes_rss_per_watch", "memory per watch <= 10 KB", headline["bytes_rss_per_watch"],
              at_most(headline["bytes_rss_per_watch"], 10 * 1024)),
        check("import_overhead_ms", "DAG-parse overhead <= 20 ms, aiohttp not imported",
              headline["import_overhead_ms"],
              parse["best_ms"] <= 20 and "aiohttp" not in parse["heavy_modules_loaded"]),
        check("requests_per_job_per_interval_batched", "batched: <= 0.05 requests per job per interval at 1,000 jobs",
              headline["requests_per_job_per_interval_batched"],
              at_most(headline["requests_per_job_per_interval_batched"], 0.05)),
    ]  # fmt: skip


def notes(sizes: list[int], slow_peer_max: int, runs: list[dict[str, Any]]) -> list[str]:
    text = [
        "CPU per poll is process CPU in a steady window of one interval (every watch polls once, no job ends), "
        "minus the watcher's idle CPU, divided by the job-state reads the emulator served in that window.",
        "Runs with fewer watches than the largest size ran side by side (one emulator and one watcher each).",
    ]
    if any(size > slow_peer_max for size in sizes):
        text.append(
            f"AirbyteSyncTrigger ran up to {slow_peer_max} watches only: it calls a sync HTTP client on the event "
            "loop, so each poll blocks the loop for its whole round trip; at 10,000 watches per 10 s that is more "
            "blocking per second than one core has (see its CPU per poll times 1,000 polls per second)."
        )
    broken = [f"{run['contender']}@{run['watches']}: {run['undetected']} undetected, {run['failed']} failed"
              for run in runs if run["undetected"] or run["failed"]]  # fmt: skip
    if broken:
        text.append("Runs that did not see every job end: " + "; ".join(broken))
    return text


def table(summary: dict[str, Any]) -> str:
    head = (f"{'watches':>7}  {'contender':<36} {'CPU s/1k polls':>14} {'lag p50/p99 ms':>15} "
            f"{'detect p50/p99 s':>17} {'req/job/int':>11} {'requests':>9} {'RSS/watch':>10}")  # fmt: skip
    lines = [f"poll interval {summary['interval_s']:g} s", head, "-" * len(head)]
    for run in summary["runs"]:
        lag, detect = run["loop_lag_ms"], run["detection_latency_ms"]
        cpu = f"{run['cpu_s_per_1000_polls']:.4f}" if run["cpu_s_per_1000_polls"] is not None else "-"
        lines.append(
            f"{run['watches']:>7}  {LABELS[run['contender']]:<36} {cpu:>14} "
            f"{lag['p50']:>6.1f}/{lag['p99']:<8.1f} {detect['p50'] / 1000:>7.2f}/{detect['p99'] / 1000:<9.2f} "
            f"{run['requests_per_job_per_interval']:>11.3f} {run['requests_served']:>9} "
            f"{run['bytes_rss_per_watch'] / 1024:>7.1f} KB"
        )
    lines.append("")
    lines.append("ours / peer, CPU per poll:")
    for size, ratios in summary["ratios_ours_over_peer_by_watches"].items():
        shown = ", ".join(f"{name} {value:.3f}" for name, value in ratios.items() if value is not None)
        lines.append(f"  {size:>6} watches: {shown}")
    lines.append(f"DAG-parse import overhead: {summary['import_overhead_ms']} ms "
                 f"(heavy modules loaded: {summary['dag_parse']['heavy_modules_loaded'] or 'none'})")  # fmt: skip
    lines.append("")
    for target in summary["targets"]:
        lines.append(f"  [{'met' if target['met'] else 'NOT met'}] {target['target']}: {target['measured']}")
    return "\n".join(lines)


def chart(summary: dict[str, Any], path: Path) -> Path | None:
    """CPU per poll and loop lag p99 against the number of watches, one line per contender."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    figure, (cpu_axis, lag_axis) = plt.subplots(1, 2, figsize=(12, 4.5))
    for contender, label in LABELS.items():
        runs = sorted((run for run in summary["runs"] if run["contender"] == contender), key=lambda run: run["watches"])
        runs = [run for run in runs if run["cpu_s_per_1000_polls"] is not None]
        if not runs:
            continue
        sizes = [run["watches"] for run in runs]
        cpu_axis.plot(sizes, [run["cpu_s_per_1000_polls"] * 1000 for run in runs], marker="o", label=label)
        lag_axis.plot(sizes, [max(0.01, run["loop_lag_ms"]["p99"]) for run in runs], marker="o", label=label)
    cpu_axis.set(xscale="log", yscale="log", xlabel="concurrent watches", ylabel="CPU ms per 1,000 polls",
                 title=f"CPU per poll (interval {summary['interval_s']:g} s)")  # fmt: skip
    lag_axis.set(xscale="log", yscale="log", xlabel="concurrent watches", ylabel="loop lag p99, ms",
                 title="event-loop lag p99 (steady window)")  # fmt: skip
    lag_axis.axhline(100, color="grey", linestyle="--", linewidth=1, label="100 ms target")
    for axis in (cpu_axis, lag_axis):
        axis.grid(True, which="both", alpha=0.3)
    lag_axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
