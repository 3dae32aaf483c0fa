"""Batched polling with the watches split over two triggerer processes: every outcome right.

Keboola's job search reads many jobs in one request, so the triggers of one triggerer process
share one poll (triggers/batch_poller.py). Six deferrable Keboola ``JobSensor``s split three and
three over the triggerers; their jobs end in six different ways. The emulator's access log,
joined with the TCP connections each triggerer's processes hold to it, shows that each process
read its three jobs in one search, and each run ends as its job's final state says.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import psutil
import pytest

from tests.e2e.prod.deployment import TRIGGERER_CAPACITY, TRIGGERERS, ProductionDeployment
from tests.e2e.scenario import STEP_TIMEOUT, wait_for_task
from tests.support.polling import poll_until

pytestmark = pytest.mark.e2e
DAG_ID = "e2e_keboola_watch"
# raw state the job ends in -> the run's state (Keboola: warning is FAILED unless overridden)
ENDINGS = {"success": "success", "error": "failed", "cancelled": "failed", "warning": "failed",
           "terminated": "failed", "processing": None}  # fmt: skip
"""``processing`` is no ending: that job ends ``success`` last, after the others."""
RUNS = [f"batch-{raw}" for raw in ENDINGS]


def emulator_peers(deployment: ProductionDeployment) -> dict[str, str]:
    """``127.0.0.1:port`` of each open connection to the emulator -> the triggerer whose process holds it."""
    assert deployment.emulator is not None
    port = int(deployment.emulator.url.rsplit(":", 1)[1])
    peers = {}
    for name in TRIGGERERS:
        for proc in deployment.components[name].family():
            try:
                connections = proc.net_connections(kind="tcp")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            for connection in connections:
                if connection.raddr and connection.raddr.port == port:
                    peers[f"{connection.laddr.ip}:{connection.laddr.port}"] = name
    return peers


def searched_ids(path: str) -> list[str]:
    return parse_qs(urlsplit(path).query).get("id[]", [])


def test_each_triggerer_reads_its_watches_in_one_search(deployment: ProductionDeployment):
    emulator = deployment.emulator
    assert emulator is not None
    emulator.reset()
    emulator.script("keboola", duration=600, queue_seconds=0.1, error="extractor failed: table is locked", times=6)
    for run_id in RUNS:
        deployment.api.trigger(DAG_ID, run_id)
    for run_id in RUNS:
        wait_for_task(deployment, DAG_ID, run_id, "watch", "deferred")
    job_ids = {run_id: str(deployment.api.xcom(DAG_ID, run_id, "start", "job_id")) for run_id in RUNS}
    held = poll_until(
        lambda: (held := deployment.spread(
            {key: who for key, who in deployment.task_triggers().items() if key[0] == DAG_ID}
        )) and sorted(held, key=str) == sorted(TRIGGERERS) and held,
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what="both triggerers to hold Keboola watches",
    )  # fmt: skip
    assert {name: len(keys) for name, keys in held.items()} == dict.fromkeys(TRIGGERERS, TRIGGERER_CAPACITY)
    watched_by = {job_ids[run_id]: name for name, keys in held.items() for _, run_id, _ in keys}

    peers: dict[str, str] = {}

    def batched_by_both() -> bool:
        """Each triggerer has sent one search naming exactly the three jobs it watches."""
        peers.update(emulator_peers(deployment))
        seen: dict[str, set[frozenset[str]]] = {name: set() for name in TRIGGERERS}
        for entry in emulator.requests():
            if entry["path"].startswith("/search/jobs") and entry["peer"] in peers:
                seen[peers[entry["peer"]]].add(frozenset(searched_ids(entry["path"])))
        own = {name: frozenset(job for job, who in watched_by.items() if who == name) for name in TRIGGERERS}
        return all(own[name] in searched for name, searched in seen.items())

    poll_until(batched_by_both, timeout=STEP_TIMEOUT, interval=0.5, what="each triggerer to batch its three watches")

    for run_id, raw in zip(RUNS, ENDINGS, strict=True):
        if ENDINGS[raw]:
            emulator.force_state("keboola", job_ids[run_id], raw)
    for run_id, raw in zip(RUNS, ENDINGS, strict=True):
        if ENDINGS[raw]:
            assert deployment.api.wait_for_run(DAG_ID, run_id, timeout=STEP_TIMEOUT) == ENDINGS[raw], run_id
    last = RUNS[-1]
    assert deployment.api.run_state(DAG_ID, last) == "running", "the unfinished job is still watched"
    emulator.force_state("keboola", job_ids[last], "success")
    assert deployment.api.wait_for_run(DAG_ID, last, timeout=STEP_TIMEOUT) == "success"

    for run_id, raw in zip(RUNS, ENDINGS, strict=True):
        ti = deployment.api.task_instance(DAG_ID, run_id, "watch")
        assert ti["try_number"] == 1
        if ENDINGS[raw] == "success" or raw == "processing":
            assert deployment.api.xcom(DAG_ID, run_id, "watch")["raw_status"] == "success"
        else:
            log = deployment.api.task_log(DAG_ID, run_id, "watch")
            assert f"raw: {raw}" in log or raw.upper() in log, f"{run_id}: the log names the job's end"
    searches = [entry for entry in emulator.requests() if entry["path"].startswith("/search/jobs")]
    single_gets = [entry for entry in emulator.requests() if entry["path"].split("?")[0].startswith("/jobs/")]
    assert max(len(searched_ids(entry["path"])) for entry in searches) == TRIGGERER_CAPACITY
    assert len(single_gets) <= len(RUNS) * 2, f"the watches polled through the search, not one GET each: {single_gets}"
    assert len(emulator.jobs("keboola")) == len(RUNS), "no job was started twice"
