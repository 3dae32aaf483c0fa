"""soft_fail and never_fail hold on every path of JobSensor, in every wait mode (issue 12, bug 2).

One test per path, each with soft_fail, never_fail and neither, on the emulator through dag.test():

| path | neither | soft_fail | never_fail |
|---|---|---|---|
| the job has already FAILED / been CANCELLED when the sensor starts | failed | skipped | skipped |
| the job ends FAILED / CANCELLED while the sensor is deferred | failed | skipped | skipped |
| the sensor's timeout passes | failed | skipped | skipped |
| the task's execution_timeout passes (poke, deferrable) | failed | skipped | skipped |
| the API answers 404, refuses the token or stays down (at start, or while deferred) | failed | failed | skipped |

API errors are not job outcomes: soft_fail leaves them failing, so the task's retries apply (as
Airflow's poke mode does); never_fail skips on any error.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_jobs_provider.hooks.jobs import JobsHook
from tests.conftest import TOKEN
from tests.support.dagrun import run_dag
from tests.support.jobs import jobs_on, start_tinybird_job
from tests.support.polling import poll_until

pytestmark = pytest.mark.usefixtures("airflow_db")

MODES = ["poke", "reschedule", "deferrable"]
FLAGS = ["", "_soft_fail", "_never_fail"]
ENDS = {"": "failed", "_soft_fail": "skipped", "_never_fail": "skipped"}
"""A job outcome or a timeout."""
API_ERROR_ENDS = {"": "failed", "_soft_fail": "failed", "_never_fail": "skipped"}


@pytest.fixture
def conns(live: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``jobs_bad_token`` (the API refuses it) and ``jobs_flaky`` (two quick attempts, then give up)."""
    extras = {
        "jobs_bad_token": ({"api": "tinybird"}, "not-the-token"),
        "jobs_flaky": ({"api": "tinybird", "timeout": 0.5, "retry_attempts": 2, "retry_initial_wait": 0.01}, TOKEN),
    }
    for conn_id, (extra, token) in extras.items():
        conn = {"conn_type": "jobs", "host": live.url, "password": token, "extra": extra}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return live


def ended_job(live: Any, outcome: str) -> str:
    job_id = start_tinybird_job(live, outcome, duration=0.1, queue_seconds=0.0)
    poll_until(lambda: JobsHook().get_job(job_id).status.is_terminal, timeout=10, what=f"job {job_id} to end")
    return job_id


@pytest.fixture
def when_watched() -> Iterator[Callable[..., None]]:
    """Run an action once the sensor's trigger has read the job at least twice (it is deferred by then)."""
    threads: list[threading.Thread] = []

    def schedule(live: Any, job_id: str, action: Callable[[], object], api: str = "tinybird") -> None:
        def go() -> None:
            poll_until(
                lambda: [job for job in jobs_on(live, api) if job["id"] == job_id and job["gets"] >= 2],
                timeout=20,
                interval=0.05,
                what=f"two reads of job {job_id}",
            )
            action()

        thread = threading.Thread(target=go, daemon=True)
        thread.start()
        threads.append(thread)

    yield schedule
    for thread in threads:
        thread.join(timeout=20)


# -- the job has ended when the sensor starts (bug 2: the deferrable sensor's first look)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize("outcome", ["failed", "cancelled"])
def test_a_job_that_ended_before_the_sensor_started(live, mode, flag, outcome, mocker, capsys):
    from airflow_jobs_provider.triggers.jobs import JobStatusTrigger

    job_id = ended_job(live, outcome)
    trigger_runs = mocker.spy(JobStatusTrigger, "run")

    result = run_dag(f"soft_{mode}{flag}", {"job_id": job_id})

    assert result.task_states == {"wait": ENDS[flag]}
    assert trigger_runs.call_count == 0, "the first look saw the end: no trip through the triggerer"
    assert ("JobFailedError" if outcome == "failed" else "JobCancelledError") in capsys.readouterr().out


# -- the job ends while the sensor is deferred
@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize("outcome", ["failed", "cancelled"])
def test_a_job_that_ends_while_the_sensor_is_deferred(live, flag, outcome, when_watched, mocker, capsys):
    from airflow_jobs_provider.triggers.jobs import JobStatusTrigger

    job_id = start_tinybird_job(live, "succeeded", duration=30)
    raw = {"failed": "error", "cancelled": "cancelled"}[outcome]
    when_watched(live, job_id, lambda: live.force_state("tinybird", job_id, raw))
    trigger_runs = mocker.spy(JobStatusTrigger, "run")

    result = run_dag(f"soft_deferrable{flag}", {"job_id": job_id})

    assert trigger_runs.call_count == 1, "the job was still running at the first look"
    assert result.task_states == {"wait": ENDS[flag]}
    assert ("JobFailedError" if outcome == "failed" else "JobCancelledError") in capsys.readouterr().out


# -- timeouts
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("flag", FLAGS)
def test_the_sensor_timeout_passes(live, mode, flag):
    job_id = start_tinybird_job(live, "succeeded", duration=30)

    result = run_dag(f"soft_{mode}{flag}_times_out", {"job_id": job_id})

    assert result.task_states == {"wait": ENDS[flag]}
    (job,) = jobs_on(live)
    assert not job["cancel_requested"], "cancel_on_timeout is off"


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
@pytest.mark.parametrize("flag", FLAGS)
def test_the_execution_timeout_passes_and_cancel_on_timeout_cancels(live, mode, flag, capsys):
    """In poke mode the timeout fires in the sleep between pokes, outside Airflow's soft_fail handling."""
    job_id = start_tinybird_job(live, "succeeded", queue_seconds=30)  # a waiting Tinybird job can be cancelled

    result = run_dag(f"soft_{mode}{flag}_execution_timeout", {"job_id": job_id})

    assert result.task_states == {"wait": ENDS[flag]}
    (job,) = jobs_on(live)
    assert job["raw_status"] == "cancelled", f"cancel_on_timeout covers execution_timeout too: {job}"
    out = capsys.readouterr().out
    assert "AirflowTaskTimeout" in out or "Timeout" in out
    assert out.count(f"Cancelled job {job_id}") == 1, "cancelled once"


@pytest.mark.parametrize("flag", FLAGS)
def test_an_execution_timeout_inside_a_poke_cancels_too(live, flag, capsys):
    """The alarm rings while a poke's request is in flight: Airflow's sensor turns it into its skip first."""
    job_id = start_tinybird_job(live, "succeeded", queue_seconds=30)
    live.faults("tinybird", {"slow": 1.0}, route="job", method="GET", slow_seconds=4)  # longer than the 1.5 s limit

    result = run_dag(f"soft_poke{flag}_execution_timeout", {"job_id": job_id})

    assert result.task_states == {"wait": ENDS[flag]}
    (job,) = jobs_on(live)
    assert job["raw_status"] == "cancelled", f"cancel_on_timeout covers a timeout inside poke(): {job}"
    assert capsys.readouterr().out.count(f"Cancelled job {job_id}") == 1, "cancelled once"


# -- API errors
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize("error", ["not_found", "auth", "unavailable"])
def test_an_api_error_at_the_first_look(conns, mode, flag, error, capsys):
    conf = {"job_id": start_tinybird_job(conns, "succeeded", duration=30)}
    if error == "not_found":
        conf["job_id"] = "no-such-job"
    elif error == "auth":
        conf["conn"] = "jobs_bad_token"
    else:
        conns.faults("tinybird", {"5xx": 1.0}, route="job")
        conf["conn"] = "jobs_flaky"

    result = run_dag(f"soft_{mode}{flag}", conf)

    assert result.task_states == {"wait": API_ERROR_ENDS[flag]}
    expected = {"not_found": "JobNotFoundError", "auth": "JobsAuthError", "unavailable": "JobsUnavailableError"}
    assert expected[error] in capsys.readouterr().out


@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize("error", ["not_found", "unavailable"])
def test_an_api_error_while_deferred(conns, flag, error, when_watched, mocker, capsys):
    """A REST job that vanishes (404; Tinybird would answer from jobs_log), or Tinybird going down."""
    from airflow_jobs_provider.triggers.jobs import JobStatusTrigger

    if error == "not_found":
        conns.script("acme", outcome="succeeded", duration=30)
        conf = {"job_id": JobsHook("jobs_acme").start_job({"task": "nightly_report"}).job_id, "conn": "jobs_acme"}
        when_watched(conns, conf["job_id"], lambda: conns.expire("acme", conf["job_id"]), api="acme")
    else:
        conf = {"job_id": start_tinybird_job(conns, "succeeded", duration=30), "conn": "jobs_flaky"}
        when_watched(conns, conf["job_id"], lambda: conns.faults("tinybird", {"5xx": 1.0}, route="job"))
    trigger_runs = mocker.spy(JobStatusTrigger, "run")

    result = run_dag(f"soft_deferrable{flag}", conf)

    assert trigger_runs.call_count == 1
    assert result.task_states == {"wait": API_ERROR_ENDS[flag]}
    expected = {"not_found": "JobNotFoundError", "unavailable": "JobsUnavailableError"}[error]
    assert expected in capsys.readouterr().out
