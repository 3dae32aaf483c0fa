"""JobsHook on ``api: faktory``: the same hook methods, spoken over Faktory's TCP protocol."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_jobs_provider.apis.job import JobStatus
from airflow_jobs_provider.emulator import run_emulator
from airflow_jobs_provider.emulator.connections import faktory_connection
from airflow_jobs_provider.exceptions import (
    JobsApiError,
    JobsAuthError,
    JobsConfigError,
    JobsUnavailableError,
)
from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.hooks.retry import RetryPolicy
from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from tests.conftest import TOKEN
from tests.support.polling import poll_until

FAST_RETRIES = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05)


def hook() -> JobsHook:
    return JobsHook("jobs_faktory", retry_policy=FAST_RETRIES)


def wait_until_done(jobs: JobsHook, jid: str, timeout: float = 15) -> Any:
    return poll_until(
        lambda: jobs.get_job(jid), lambda job: job.status.is_terminal, timeout=timeout, interval=0.05, what="the job"
    )


def peers(live: Any, jid: str) -> set[str]:
    return {entry["peer"] for entry in live.faktory()["commands"] if entry["jid"] == jid}


def test_push_watch_cancel_list_and_test_connection_on_one_connection(live):
    live.script("faktory", outcome="succeeded", queue_seconds=0.1, duration=0.4, progress=[50])
    jobs = hook()

    started = jobs.start_job({"jobtype": "Report", "args": [7], "queue": "reports"})
    assert (started.status, started.raw_status) == (JobStatus.PENDING, "enqueued")
    with pytest.raises(JobsApiError, match="cannot cancel job"):
        jobs.cancel_job(started.job_id)
    with pytest.raises(JobsConfigError, match="cannot list jobs"):
        jobs.list_jobs()
    done = wait_until_done(jobs, started.job_id)
    assert (done.status, done.raw_status, done.progress) == (JobStatus.SUCCEEDED, "success", 50.0)
    connected = f"Connected to Faktory 1.9.0 (jobs-emulator) at {live.faktory_url}; tracking is on"
    assert jobs.test_connection() == (True, connected)

    assert len(peers(live, started.job_id)) == 1, "the hook keeps one connection"
    assert live.faktory()["connections"] == 1
    (stored,) = live.jobs("faktory")
    assert stored["attrs"] == {"jobtype": "Report", "queue": "reports", "args": [7], "tracked": True}


def test_get_conn_is_the_connected_socket(live):
    sock = hook().get_conn()
    assert isinstance(sock, socket.socket)
    assert sock.getpeername()[1] == int(live.faktory_url.rsplit(":", 1)[1])


async def test_async_methods_match_sync_ones(live):
    live.script("faktory", outcome="succeeded", queue_seconds=5)
    jid = hook().start_job({"jobtype": "Report"}).job_id
    async with JobsHook("jobs_faktory") as jobs:
        job = await jobs.aget_job(jid)
        with pytest.raises(JobsConfigError):
            await jobs.alist_jobs()
    assert job == hook().get_job(jid)


def test_a_wrong_password_fails_the_connection_test_without_showing_any_password(live, monkeypatch):
    conn = json.loads(faktory_connection(live.faktory_url, "wrong-password-123"))
    monkeypatch.setenv("AIRFLOW_CONN_JOBS_FAKTORY", json.dumps(conn))

    ok, message = hook().test_connection()

    assert not ok
    assert "refused the password" in message and "jobs_faktory" in message
    assert "wrong-password-123" not in message and TOKEN not in message
    with pytest.raises(JobsAuthError):
        hook().get_job("some-jid-1")


def test_open_source_faktory_is_told_enterprise_is_required_and_nothing_is_pushed(live):
    live.faktory(enterprise=False)
    jobs = hook()

    with pytest.raises(JobsConfigError, match="needs Faktory Enterprise's TRACK command"):
        jobs.start_job({"jobtype": "Report"})
    ok, message = jobs.test_connection()

    assert live.jobs("faktory") == []
    assert not ok and "Enterprise" in message


def test_an_unreachable_server_fails_after_the_retries_say_so(live, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_JOBS_FAKTORY", faktory_connection(f"tcp://127.0.0.1:{closed_port}", TOKEN))

    with pytest.raises(JobsUnavailableError, match=r"TRACK GET some-jid-1 to Faktory .* failed 3 time\(s\)"):
        hook().get_job("some-jid-1")


def test_a_connection_the_server_dropped_is_replaced_once_without_failing_the_call(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # A real-looking password: Airflow 2.11 masks secrets of any length, and "t" would mask every t in later logs.
    password = "restart-secret-5c2e"
    monkeypatch.setenv("AIRFLOW_CONN_JOBS_FAKTORY", faktory_connection(f"tcp://127.0.0.1:{port}", password))
    jobs = JobsHook("jobs_faktory", retry_policy=RetryPolicy(max_attempts=1))  # no retry may hide a failure

    with run_emulator(token=password, faktory_port=port) as first:
        jobs.get_job("some-jid-1")
        assert first.faktory()["connections"] == 1
    with run_emulator(token=password, faktory_port=port) as second:  # the old connection is dead now
        assert jobs.get_job("some-jid-1").raw_status == "unknown"
        assert second.faktory()["connections"] == 1


@pytest.fixture
def server_that_drops_push() -> Iterator[tuple[str, list[str]]]:
    """A Faktory stand-in that reads a PUSH and hangs up without answering; records every command."""
    listener = socket.create_server(("127.0.0.1", 0))
    lines: list[str] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as reader:
                conn.sendall(b'+HI {"v":2}\r\n')
                for raw in reader:
                    line = raw.decode().strip()
                    lines.append(line)
                    if line.startswith("PUSH"):
                        break
                    conn.sendall(b'$19\r\n{"state":"unknown"}\r\n' if line.startswith("TRACK") else b"+OK\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{listener.getsockname()[1]}", lines
    listener.close()
    thread.join(5)


def test_a_push_the_server_may_have_received_is_never_sent_twice(monkeypatch, server_that_drops_push):
    url, lines = server_that_drops_push
    monkeypatch.setenv("AIRFLOW_CONN_JOBS_FAKTORY", faktory_connection(url, TOKEN))

    with pytest.raises(JobsUnavailableError, match="after the server may have received it; not sent again"):
        hook().start_job({"jobtype": "Report"}, resolve_uncertain=False)

    assert [line.split(" ", 1)[0] for line in lines].count("PUSH") == 1


def test_a_push_whose_jid_stays_unknown_is_sent_once_more_with_the_same_jid(monkeypatch, server_that_drops_push):
    """TRACK GET says the server never saw the jid: the PUSH is sent again once, never a third time."""
    url, lines = server_that_drops_push
    monkeypatch.setenv("AIRFLOW_CONN_JOBS_FAKTORY", faktory_connection(url, TOKEN))

    with pytest.raises(JobsUnavailableError, match="Not sent a third time"):
        hook().start_job({"jobtype": "Report"})

    pushes = [line for line in lines if line.startswith("PUSH")]
    assert len(pushes) == 2
    assert len({json.loads(line.split(" ", 1)[1])["jid"] for line in pushes}) == 1, "the same jid both times"


def test_operator_on_kill_cannot_stop_a_faktory_job_and_says_so_without_failing(live, capsys):
    live.script("faktory", outcome="succeeded", queue_seconds=0.05, duration=0.6)
    operator = TriggerJobOperator(task_id="push", job={"jobtype": "Report"}, jobs_conn_id="jobs_faktory")
    operator.started_job_id = hook().start_job({"jobtype": "Report"}).job_id

    operator.on_kill()

    warning = [line for line in capsys.readouterr().out.splitlines() if "Could not cancel job" in line]
    assert warning and "the Faktory protocol has no command that stops a job" in warning[0]
    assert wait_until_done(hook(), operator.started_job_id).status is JobStatus.SUCCEEDED, "the job ran on, untouched"
