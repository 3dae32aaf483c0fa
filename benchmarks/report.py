"""The triggerer-scale results: headline numbers and ratios, targets met or not, a table and a chart.

Every ratio is ours / peer from runs of one ``make bench``. A figure whose runs did not happen
(a module of another benchmark absent, a contender skipped) is reported as ``"not measured"``,
never filled in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LABELS = {
    "ours": "JobStatusTrigger (ours, per job)",
    "ours_batched": "JobStatusTrigger, batched (Keboola)",
    "ours_batched_tinybird": "JobStatusTrigger on Tinybird",
    "ours_batched_airbyte": "JobStatusTrigger on Airbyte",
    "ours_batched_rest": "JobStatusTrigger on REST (acme)",
    "airbyte": "AirbyteSyncTrigger",
    "session_per_poll": "session per poll (dbt/HTTP)",
    "floor": "floor (bare GET loop)",
    "ours_tls": "HTTPS: ours, per job",
    "session_per_poll_tls": "HTTPS: session per poll",
    "floor_tls": "HTTPS: floor",
}
BATCHED_AT = 1000
"""The batched targets are stated for 1,000 watched jobs."""
BATCHED_BY_API = {"tinybird": "ours_batched_tinybird", "keboola": "ours_batched", "airbyte": "ours_batched_airbyte",
                  "rest": "ours_batched_rest"}  # fmt: skip
NOT_MEASURED = "not measured"
LAG_LIMIT_MS = 100.0
BATCHED_BELOW = 0.5
"""A run below this many requests per job per interval shares its reads (it is on a batched path)."""


def held(run: dict[str, Any]) -> bool:
    """A capacity run held its watches: loop lag p99 under 100 ms in its window, nothing failed."""
    lag = run["loop_lag_ms"]["p99"]
    return lag == lag and lag < LAG_LIMIT_MS and not run["failed"] and not run["undetected"]


def summarize(
    runs: list[dict[str, Any]],
    parse: dict[str, Any],
    interval: float,
    slow_peer_max: int,
    capacity_runs: list[dict[str, Any]] | None = None,
    extras: dict[str, dict[str, Any]] | None = None,
    batched_at: int = BATCHED_AT,
) -> dict[str, Any]:
    held_runs, extras = capacity_runs or [], extras or {}
    by = {(run["watches"], run["contender"]): run for run in runs}
    sizes = sorted({run["watches"] for run in runs})

    def cpu(size: int, contender: str) -> float | None:
        run = by.get((size, contender))
        return run["cpu_s_per_1000_polls"] if run else None

    def ratio(size: int, peer: str, ours: str = "ours") -> float | None:
        mine, theirs = cpu(size, ours), cpu(size, peer)
        return round(mine / theirs, 3) if mine and theirs else None

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
    lag_ok = [run["watches"] for run in ours if run["loop_lag_ms"]["p99"] < LAG_LIMIT_MS and not run["undetected"]]
    batched = [by[(size, "ours_batched")] for size in sizes if (size, "ours_batched") in by]
    batched_run = next((run for run in batched if run["watches"] == batched_at), batched[-1] if batched else None)
    airbyte_at, per_poll_at, floor_at = largest("airbyte"), largest("session_per_poll"), largest("floor")
    by_api = {api: by.get((batched_at, name)) for api, name in BATCHED_BY_API.items()}
    airbyte_peer, ours_airbyte = by.get((batched_at, "airbyte")), by_api["airbyte"]
    # The peer is credited with one poll per job per interval (its CPU per poll): a window in which a
    # blocked loop catches up on late polls would otherwise count several polls a job against it.
    peer_per_watch = airbyte_peer["cpu_s_per_1000_polls"] if airbyte_peer else None
    ours_per_watch = ours_airbyte["cpu_ms_per_watch_interval"] if ours_airbyte else None
    per_watch = round(ours_per_watch / peer_per_watch, 4) if ours_per_watch and peer_per_watch else None
    tls_ratio = ratio(batched_at, "session_per_poll_tls", ours="ours_tls")
    batched_detection = [run for run in runs if run["contender"] in BATCHED_BY_API.values()]
    detection_batched = {
        f"{run['contender']}@{run['watches']}": round(run["detection_latency_ms"]["p99"] - interval * 1000, 1)
        for run in batched_detection
    }
    shared = [run for run in batched_detection if run["requests_per_job_per_interval"] < BATCHED_BELOW]
    worst_batched = max((run["detection_latency_ms"]["p99"] - run["interval_s"] * 1000 for run in shared), default=None)
    restart, slots = extras.get("restart", {}), extras.get("worker_slots", {})

    def extra(source: dict[str, Any], key: str, *aliases: str) -> Any:
        if not source.get("measured"):
            return NOT_MEASURED
        for name in (key, *aliases):
            if source.get(name) is not None:
                return source[name]
        return NOT_MEASURED

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
        "requests_per_job_per_interval_batched": batched_run["requests_per_job_per_interval"] if batched_run else None,
        "requests_per_job_per_interval_batched_by_api": {
            api: run["requests_per_job_per_interval"] if run else NOT_MEASURED for api, run in by_api.items()
        },
        "cpu_per_watch_interval_ratio_vs_airbyte": per_watch if per_watch is not None else NOT_MEASURED,
        "tls_cpu_per_poll_ratio_vs_session_per_poll": tls_ratio if tls_ratio is not None else NOT_MEASURED,
        "max_watches_60s_interval_lag_p99_under_100ms": max(
            (run["watches"] for run in held_runs if held(run)), default=0
        ) if held_runs else NOT_MEASURED,
        "detection_latency_p99_over_interval_ms_batched": (
            round(worst_batched, 1) if worst_batched is not None else NOT_MEASURED
        ),
        "startup_lag_p99_ms_10000": extra(restart, "startup_lag_p99_ms_10000", "startup_lag_p99_ms", "lag_p99_ms"),
        "startup_seconds_to_all_polling_10000": extra(
            restart, "startup_seconds_to_all_polling_10000", "startup_seconds_to_all_polling", "seconds_to_all_polling"
        ),
        "worker_slot_seconds_per_watch": extra(slots, "worker_slot_seconds_per_watch"),
    }  # fmt: skip
    measured_at = {
        "cpu_per_poll_ratio_vs_airbyte": airbyte_at,
        "cpu_per_poll_ratio_vs_session_per_poll": per_poll_at,
        "cpu_per_poll_ratio_to_floor": floor_at,
        "detection_latency_p99_over_interval_ms": top["watches"] if top else None,
        "bytes_rss_per_watch": top["watches"] if top else None,
        "requests_per_job_per_interval_batched": batched_run["watches"] if batched_run else None,
        "requests_per_job_per_interval_batched_by_api": batched_at,
        "cpu_per_watch_interval_ratio_vs_airbyte": batched_at,
        "tls_cpu_per_poll_ratio_vs_session_per_poll": batched_at,
        "max_watches_60s_interval_lag_p99_under_100ms": [run["watches"] for run in held_runs],
    }
    restart_interval = restart.get("interval_s", interval) if isinstance(restart, dict) else interval
    return {
        **headline,
        "measured_at_watches": measured_at,
        "targets": targets(headline, parse, restart_interval),
        "interval_s": interval,
        "ratios_ours_over_peer_by_watches": ratios,
        "batched_paths": {
            api: {
                "contender": BATCHED_BY_API[api],
                "batched": bool(run and run["requests_per_job_per_interval"] < BATCHED_BELOW),
            }
            for api, run in by_api.items()
        },
        "detection_latency_p99_over_interval_ms_by_batched_run": detection_batched,
        "runs": runs,
        "capacity_runs": held_runs,
        "restart": restart,
        "worker_slots": slots,
        "dag_parse": parse,
        "notes": notes(sizes, slow_peer_max, runs, held_runs),
    }


def targets(headline: dict[str, Any], parse: dict[str, Any], restart_interval: float) -> list[dict[str, Any]]:
    def check(name: str, goal: str, value: Any, met: bool) -> dict[str, Any]:
        return {"target": goal, "key": name, "measured": value, "met": bool(met)}

    def number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    def at_most(value: Any, limit: float) -> bool:
        return number(value) and value <= limit

    def below(value: Any, limit: float) -> bool:
        return number(value) and value < limit

    h = headline
    by_api = h["requests_per_job_per_interval_batched_by_api"]
    rows = [
        check(
            "max_watches_with_lag_p99_under_100ms",
            "10,000 watches at one interval with loop lag p99 < 100 ms",
            h["max_watches_with_lag_p99_under_100ms"],
            h["max_watches_with_lag_p99_under_100ms"] >= 10000,
        ),
        check(
            "cpu_per_poll_ratio_vs_airbyte",
            "CPU per poll >= 10x below AirbyteSyncTrigger (ratio <= 0.1)",
            h["cpu_per_poll_ratio_vs_airbyte"],
            at_most(h["cpu_per_poll_ratio_vs_airbyte"], 0.1),
        ),
        check(
            "cpu_per_poll_ratio_vs_session_per_poll",
            "CPU per poll >= 3x below session-per-poll (ratio <= 0.333)",
            h["cpu_per_poll_ratio_vs_session_per_poll"],
            at_most(h["cpu_per_poll_ratio_vs_session_per_poll"], 1 / 3),
        ),
        check(
            "cpu_per_poll_ratio_to_floor",
            "per-job path: CPU per poll <= 1.3x the floor at 10,000 watches",
            h["cpu_per_poll_ratio_to_floor"],
            at_most(h["cpu_per_poll_ratio_to_floor"], 1.3),
        ),
        check(
            "detection_latency_p99_over_interval_ms",
            "detection latency p99 <= interval + 100 ms (per job)",
            h["detection_latency_p99_over_interval_ms"],
            at_most(h["detection_latency_p99_over_interval_ms"], 100),
        ),
        check(
            "detection_latency_p99_over_interval_ms_batched",
            "detection latency p99 <= interval + 100 ms on the batched paths",
            h["detection_latency_p99_over_interval_ms_batched"],
            at_most(h["detection_latency_p99_over_interval_ms_batched"], 100),
        ),
        check(
            "bytes_rss_per_watch",
            "memory per watch <= 10 KB",
            h["bytes_rss_per_watch"],
            at_most(h["bytes_rss_per_watch"], 10 * 1024),
        ),
        check(
            "import_overhead_ms",
            "DAG-parse overhead <= 20 ms, aiohttp not imported",
            h["import_overhead_ms"],
            parse["best_ms"] <= 20 and "aiohttp" not in parse["heavy_modules_loaded"],
        ),
        check(
            "requests_per_job_per_interval_batched",
            "batched: <= 0.05 requests per job per interval at 1,000 jobs",
            h["requests_per_job_per_interval_batched"],
            at_most(h["requests_per_job_per_interval_batched"], 0.05),
        ),
    ]
    for api, value in by_api.items():
        rows.append(
            check(
                f"requests_per_job_per_interval_batched_by_api.{api}",
                f"{api}: <= 0.05 requests per job per interval at 1,000 jobs",
                value,
                at_most(value, 0.05),
            )
        )
    rows += [
        check("cpu_per_watch_interval_ratio_vs_airbyte",
              "CPU per watched job per interval >= 10x below AirbyteSyncTrigger (ratio <= 0.1)",
              h["cpu_per_watch_interval_ratio_vs_airbyte"], at_most(h["cpu_per_watch_interval_ratio_vs_airbyte"], 0.1)),
        check("tls_cpu_per_poll_ratio_vs_session_per_poll",
              "HTTPS: CPU per poll >= 3x below session-per-poll (ratio <= 0.33)",
              h["tls_cpu_per_poll_ratio_vs_session_per_poll"],
              at_most(h["tls_cpu_per_poll_ratio_vs_session_per_poll"], 0.33)),
        check("max_watches_60s_interval_lag_p99_under_100ms",
              ">= 100,000 batched watches at a 60 s interval in one process, loop lag p99 < 100 ms",
              h["max_watches_60s_interval_lag_p99_under_100ms"],
              number(h["max_watches_60s_interval_lag_p99_under_100ms"])
              and h["max_watches_60s_interval_lag_p99_under_100ms"] >= 100_000),
        check("startup_lag_p99_ms_10000", "restart adopting 10,000 triggers: loop lag p99 < 100 ms",
              h["startup_lag_p99_ms_10000"], below(h["startup_lag_p99_ms_10000"], 100)),
        check("startup_seconds_to_all_polling_10000", "restart: all 10,000 polling within one interval",
              h["startup_seconds_to_all_polling_10000"],
              at_most(h["startup_seconds_to_all_polling_10000"], restart_interval)),
        check("worker_slot_seconds_per_watch", "worker-slot seconds per watch: 0 with start_from_trigger",
              h["worker_slot_seconds_per_watch"], at_most(h["worker_slot_seconds_per_watch"], 0)),
    ]  # fmt: skip
    return rows


def notes(
    sizes: list[int], slow_peer_max: int, runs: list[dict[str, Any]], held_runs: list[dict[str, Any]]
) -> list[str]:
    text = [
        "CPU per poll is process CPU in a steady window of one interval (every watch polls once, no job ends), "
        "minus the watcher's idle CPU, divided by the job-state reads the emulator served in that window. "
        "CPU per watched job per interval divides the same CPU by watches and intervals instead: it compares a "
        "batched path (few requests, many jobs each) with a per-job one. In cpu_per_watch_interval_ratio_vs_airbyte "
        "AirbyteSyncTrigger is credited with one poll per job per interval (its CPU per poll), never more.",
        "Requests per job per interval count every request of the run's API in the emulator's access log in the "
        "window, whatever the installed code sends (job GETs, batched reads, lists, token renewals).",
        "Runs with fewer watches than the largest size ran side by side (one emulator and one watcher each); at "
        "10,000 the per-job runs ran one at a time and the batched one beside the last of them.",
        "HTTPS runs: the emulator serves a certificate of a throwaway CA (trustme); every contender trusts that CA "
        "and verifies the certificate. The session-per-poll peer makes its SSL context once and pays a TLS "
        "handshake per poll, as a new aiohttp session per poll does.",
    ]
    if held_runs:
        text.append(
            "Capacity: batched watches (Keboola) at a 60 s interval, started over "
            "10 s, then one whole interval measured (one shared round of reads); the jobs do not end in these runs. "
            "Sizes are tried largest first and the first one held is the answer: "
            + ", ".join(_held_note(run) for run in held_runs) + "."
        )  # fmt: skip
    if any(size > slow_peer_max for size in sizes):
        text.append(
            f"AirbyteSyncTrigger ran up to {slow_peer_max} watches only: it calls a sync HTTP client on the event "
            "loop, so each poll blocks the loop for its whole round trip; at 10,000 watches per 10 s that is more "
            "blocking per second than one core has (see its CPU per poll times 1,000 polls per second)."
        )
    per_job = [run for run in runs if run["contender"] in ("ours", "ours_tls")
               and not 0.9 <= run["requests_per_job_per_interval"] <= 1.1]  # fmt: skip
    if per_job:
        text.append("Per-job runs that were not one request per job per interval in their window (a loaded "
                    "machine stretched the run, or the per-job path could not be held): "
                    + ", ".join(f"{run['contender']}@{run['watches']}" for run in per_job))  # fmt: skip
    broken = [f"{run['contender']}@{run['watches']}: {run['undetected']} undetected, {run['failed']} failed"
              for run in runs + held_runs if run["undetected"] or run["failed"]]  # fmt: skip
    if broken:
        text.append("Runs that did not see every job end: " + "; ".join(broken))
    early = [f"{run['contender']}@{run['watches']}: {run['early']}" for run in runs if run.get("early")]
    if early:
        text.append("Jobs reported before their end (must never happen): " + "; ".join(early))
    return text


def _held_note(run: dict[str, Any]) -> str:
    gc = run.get("gc_in_window", {})
    return (
        f"{run['watches']}: lag p99 {run['loop_lag_ms']['p99']} ms (max {run['loop_lag_ms']['max']} ms: one stall "
        f"is one late tick of the probe, so p99 does not show a rare long one), {run['bytes_rss_per_watch']} B/watch, "
        f"garbage collection {gc.get('total_ms')} ms in the window (longest full one {gc.get('max_full_ms')} ms)"
    )


def _value(value: Any) -> str:
    if value is None:  # the runs were there but measured nothing steady (a window cut short)
        return NOT_MEASURED
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return ", ".join(f"{key} {_value(item)}" for key, item in value.items())
    return str(value)


def table(summary: dict[str, Any]) -> str:
    head = (f"{'watches':>7}  {'contender':<36} {'CPU s/1k polls':>14} {'CPU ms/watch/int':>16} "
            f"{'lag p50/p99 ms':>15} {'detect p50/p99 s':>17} {'req/job/int':>11} {'requests':>9} "
            f"{'RSS/watch':>10}")  # fmt: skip
    lines = [f"poll interval {summary['interval_s']:g} s (capacity runs: their own)", head, "-" * len(head)]
    for run in summary["runs"] + summary.get("capacity_runs", []):
        lag, detect = run["loop_lag_ms"], run["detection_latency_ms"]
        cpu = f"{run['cpu_s_per_1000_polls']:.4f}" if run["cpu_s_per_1000_polls"] is not None else "-"
        per_watch = run.get("cpu_ms_per_watch_interval")
        per_watch_text = f"{per_watch:.5f}" if per_watch is not None else "-"
        label = LABELS[run["contender"]] + (f" @{run['interval_s']:g}s held" if run.get("hold") else "")
        detect_text = "held" if run.get("hold") else f"{detect['p50'] / 1000:.2f}/{detect['p99'] / 1000:.2f}"
        lines.append(
            f"{run['watches']:>7}  {label:<36} {cpu:>14} {per_watch_text:>16} "
            f"{lag['p50']:>6.1f}/{lag['p99']:<8.1f} {detect_text:>17} "
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
    lines.append("targets:")
    width = max(len(target["key"]) for target in summary["targets"])
    for target in summary["targets"]:
        unmeasured = target["measured"] in (None, NOT_MEASURED)
        mark = "met" if target["met"] else ("not measured" if unmeasured else "MISSED")
        lines.append(f"  {mark:<12} {target['key']:<{width}}  {_value(target['measured']):<14} {target['target']}")
    return "\n".join(lines)


SERIES = {
    "ours": ("JobStatusTrigger, per job", "tab:blue", "o"),
    "ours_batched": ("JobStatusTrigger, batched (Keboola)", "tab:green", "s"),
    "airbyte": ("AirbyteSyncTrigger", "tab:red", "^"),
    "session_per_poll": ("session per poll (dbt/HTTP)", "tab:orange", "v"),
    "floor": ("floor: bare GET per job", "tab:gray", "D"),
}


def chart(summary: dict[str, Any], path: Path) -> Path | None:
    """Requests and CPU per watched job per interval against N, log scales, one line per contender."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    figure, (requests_axis, cpu_axis) = plt.subplots(1, 2, figsize=(12.5, 4.8))

    def plot(runs: list[dict[str, Any]], label: str, color: str, marker: str, style: str = "-") -> None:
        # a window cut short (a job ended early on a stretched run) measured nothing steady: left out
        runs = sorted(
            (run for run in runs if run["window_s"] >= 0.5 * run["interval_s"]), key=lambda run: run["watches"]
        )
        if not runs:
            return
        sizes = [run["watches"] for run in runs]
        requests_axis.plot(sizes, [max(1e-4, run["requests_per_job_per_interval"]) for run in runs],
                           marker=marker, color=color, linestyle=style, label=label)  # fmt: skip
        with_cpu = [run for run in runs if run.get("cpu_ms_per_watch_interval")]
        cpu_axis.plot([run["watches"] for run in with_cpu], [run["cpu_ms_per_watch_interval"] for run in with_cpu],
                      marker=marker, color=color, linestyle=style, label=label)  # fmt: skip

    for contender, (label, color, marker) in SERIES.items():
        plot([run for run in summary["runs"] if run["contender"] == contender], label, color, marker)
    plot(summary.get("capacity_runs", []), "batched (Keboola), 60 s interval, held", "tab:green", "*", ":")
    requests_axis.axhline(0.05, color="tab:green", linestyle="--", linewidth=1, alpha=0.6, label="0.05 target")
    requests_axis.set(xscale="log", yscale="log", xlabel="watched jobs (N)", ylabel="requests per job per interval",
                      title="requests per watched job per poll interval")  # fmt: skip
    cpu_axis.set(xscale="log", yscale="log", xlabel="watched jobs (N)", ylabel="CPU ms per job per interval",
                 title=f"CPU per watched job per interval ({summary['interval_s']:g} s)")  # fmt: skip
    for axis in (requests_axis, cpu_axis):
        axis.grid(True, which="both", alpha=0.3)
    requests_axis.legend(fontsize=7.5, loc="center left")
    figure.text(0.5, 0.005, "runs whose steady window was cut short are left out (latest.json keeps them)",
                ha="center", fontsize=7, color="grey")  # fmt: skip
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def markdown_targets(summary: dict[str, Any]) -> str:
    """The README's table of targets from a latest.json."""
    lines = ["| target | key | measured | met |", "|---|---|---:|---|"]
    for target in summary["targets"]:
        unmeasured = target["measured"] in (None, NOT_MEASURED)
        mark = "yes" if target["met"] else ("not measured" if unmeasured else "**no**")
        lines.append(f"| {target['target']} | `{target['key']}` | {_value(target['measured'])} | {mark} |")
    return "\n".join(lines)


def markdown(summary: dict[str, Any]) -> str:
    """The docs' tables from a latest.json: every target, then the runs."""
    lines = [markdown_targets(summary)]
    head = ("| watches | contender | CPU ms / 1,000 polls | CPU µs / job / interval | loop lag p50 / p99 ms "
            "| detection p99 s | requests / job / interval | RSS / watch |")  # fmt: skip
    lines += ["", head, "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for run in summary["runs"] + summary.get("capacity_runs", []):
        cpu = f"{run['cpu_s_per_1000_polls'] * 1000:.0f}" if run["cpu_s_per_1000_polls"] is not None else "-"
        per_watch = run.get("cpu_ms_per_watch_interval")
        per_watch_text = f"{per_watch * 1000:.1f}" if per_watch is not None else "-"
        label = LABELS[run["contender"]] + (f", {run['interval_s']:g} s interval, held" if run.get("hold") else "")
        detect = "-" if run.get("hold") else f"{run['detection_latency_ms']['p99'] / 1000:.2f}"
        lag = run["loop_lag_ms"]
        lines.append(
            f"| {run['watches']:,} | {label} | {cpu} | {per_watch_text} | {lag['p50']:.1f} / {lag['p99']:.1f} "
            f"| {detect} | {run['requests_per_job_per_interval']:.3f} | {run['bytes_rss_per_watch'] / 1024:.1f} KB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # print the markdown tables of the latest run
    import json
    import sys

    source = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results" / "latest.json"
    print(markdown(json.loads(source.read_text())))
