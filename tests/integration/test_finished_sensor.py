"""JobFinishedSensor: the next job of something to finish after a time, on every API with a list, in every mode.

Through dag.test() on the emulator. The time comes from dag_run.conf, so it is untrusted input
as well; the outcomes are JobSensor's (FAILED fails, soft_fail skips it, never_fail skips any error).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_jobs_provider.triggers.jobs import JobFinishedTrigger
from tests.support.dagrun import run_dag
from tests.support.events import PROFILES, Profile, list_polls, run_job, start_job
from tests.support.polling import poll_until

pytestmark = pytest.mark.usefixtures("airflow_db")
MODES = ["poke", "reschedule", "deferrable"]
FLAGS = ["", "_soft_fail", "_never_fail"]
TINYBIRD = PROFILES["tinybird"]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def a_time_between_jobs() -> str:
    """A time after every job so far, a second clear of the next: some APIs give times in whole seconds."""
    time.sleep(1.05)
    moment = now_iso()
    time.sleep(1.05)
    return moment


@pytest.fixture
def start_when_polled(live: Any) -> Iterator[Callable[..., dict[str, str]]]:
    """Start a job once the sensor has listed the jobs twice: it cannot have found it at its first look."""
    threads: list[threading.Thread] = []

    def schedule(profile: Profile, spec: dict[str, Any], **script: Any) -> dict[str, str]:
        started: dict[str, str] = {}
        polls = list_polls(live, profile)

        def go() -> None:
            poll_until(lambda: list_polls(live, profile) >= polls + 2, timeout=30, interval=0.05, what="two lists")
            started["job_id"] = asyncio.run(start_job(live, profile, spec, **script))

        threads.append(threading.Thread(target=go, daemon=True))
        threads[-1].start()
        return started

    yield schedule
    for thread in threads:
        thread.join(timeout=30)


@pytest.mark.parametrize("api", sorted(PROFILES))
@pytest.mark.parametrize("mode", MODES)
def test_the_next_matching_job_to_finish_after_the_time_is_the_xcom(live, api, mode, mocker, start_when_polled):
    if mode == "reschedule" and api != "tinybird":
        pytest.skip("reschedule differs from poke only in Airflow's loop: one API shows it")
    profile = PROFILES[api]
    asyncio.run(run_job(live, profile, profile.target, outcome="failed"))  # before the time: not this one
    after = a_time_between_jobs()
    asyncio.run(run_job(live, profile, profile.other))  # after the time, but another pipe / config / connection
    target = start_when_polled(profile, profile.target)  # after the first look
    trigger_runs = mocker.spy(JobFinishedTrigger, "run")

    result = run_dag(f"finished_{api}_{mode}", {"finished_after": after})

    assert result.task_states == {"wait": "success"}
    job = result.xcom("wait")
    assert job["job_id"] == target["job_id"]
    assert job["status"] == "SUCCEEDED"
    assert trigger_runs.call_count == (1 if mode == "deferrable" else 0)


@pytest.mark.parametrize("mode", MODES)
def test_a_job_that_had_already_finished_after_the_time_needs_no_wait(live, mode, mocker):
    after = now_iso()
    time.sleep(0.05)
    first = asyncio.run(run_job(live, TINYBIRD, TINYBIRD.target))
    asyncio.run(run_job(live, TINYBIRD, TINYBIRD.target))  # finished later: the first one is "the next" job
    trigger_runs = mocker.spy(JobFinishedTrigger, "run")

    result = run_dag(f"finished_tinybird_{mode}", {"finished_after": after})

    assert result.task_states == {"wait": "success"}
    assert result.xcom("wait")["job_id"] == first
    assert trigger_runs.call_count == 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("flag", FLAGS)
def test_a_failed_job_fails_the_task_or_is_skipped(live, mode, flag, capsys, start_when_polled):
    """The job ends after the first look: in deferrable mode it is the trigger that finds it."""
    after = now_iso()
    started = start_when_polled(TINYBIRD, TINYBIRD.target, outcome="failed")
    dag_id = f"finished_tinybird_{mode}{flag}"

    result = run_dag(dag_id, {"finished_after": after})
    job_id = started["job_id"]

    assert result.task_states == {"wait": "failed" if not flag else "skipped"}
    assert result.xcom("wait") is None
    assert f"JobFailedError: job {job_id} failed" in capsys.readouterr().out


def test_states_succeeded_passes_over_a_failed_run(live):
    after = now_iso()
    asyncio.run(run_job(live, TINYBIRD, TINYBIRD.target, outcome="failed"))
    retried = asyncio.run(start_job(live, TINYBIRD, TINYBIRD.target, duration=1.0))

    result = run_dag("finished_succeeded_only", {"finished_after": after})

    assert result.task_states == {"wait": "success"}
    assert result.xcom("wait")["job_id"] == retried


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("flag", FLAGS)
def test_no_job_by_the_timeout(live, mode, flag):
    asyncio.run(run_job(live, TINYBIRD, TINYBIRD.target))  # finished, but before the time
    after = now_iso()

    result = run_dag(f"finished_tinybird_{mode}{flag}_times_out", {"finished_after": after})

    assert result.task_states == {"wait": "failed" if not flag else "skipped"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("value", ["yesterday", "None", "", "2026-13-45T00:00:00"])
def test_a_bad_time_from_the_run_conf_fails_with_the_way_out(live, mode, value, capsys):
    result = run_dag(f"finished_tinybird_{mode}", {"finished_after": value})

    assert result.task_states == {"wait": "failed"}
    out = capsys.readouterr().out
    assert "JobsConfigError: finished_after" in out
    assert "ISO 8601" in out


@pytest.mark.parametrize("mode", MODES)
def test_faktory_has_no_list_and_says_what_to_use(live, mode, capsys):
    result = run_dag(f"finished_faktory_{mode}", {"finished_after": now_iso()})

    assert result.task_states == {"wait": "failed"}
    out = capsys.readouterr().out
    assert "JobFinishedSensor cannot look for jobs on connection 'jobs_faktory'" in out
    assert "JobSensor(job_id=...)" in out


@pytest.mark.parametrize("mode", MODES)
def test_never_fail_skips_an_error_before_any_job_is_found(live, mode):
    result = run_dag(f"finished_faktory_{mode}_never_fail", {"finished_after": now_iso()})

    assert result.task_states == {"wait": "skipped"}


def test_the_trigger_kwargs_are_plain_json_and_checked() -> None:
    trigger = JobFinishedTrigger(
        jobs_conn_id="jobs_keboola", filters={"configId": "1"}, finished_after=1_800_000_000, states=["SUCCEEDED"]
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_jobs_provider.triggers.jobs.JobFinishedTrigger"
    assert JobFinishedTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert kwargs["finished_after"] == 1_800_000_000.0
    assert "password" not in repr(kwargs) and "token" not in repr(kwargs)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"finished_after": "2026-01-01"}, "finished_after must be epoch seconds"),
        ({"finished_after": True}, "finished_after must be epoch seconds"),
        ({"filters": {"since": datetime(2026, 1, 1)}}, "filters must be plain JSON"),
        ({"states": ["RUNNING"]}, "RUNNING is not a state a job finishes in"),
    ],
)
def test_the_trigger_refuses_kwargs_it_could_not_store(changes: dict[str, Any], problem: str) -> None:
    from airflow_jobs_provider.exceptions import JobsConfigError

    with pytest.raises(JobsConfigError, match=problem):
        JobFinishedTrigger(**{"finished_after": 1.0, **changes})
