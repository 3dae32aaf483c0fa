"""The emulator's Faktory protocol, driven line by line as a worker or producer would."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from airflow_jobs_provider.apis.faktory.wire import ReplyKind
from airflow_jobs_provider.emulator import EmulatorControlError, EmulatorServer, run_emulator
from tests.support.polling import poll_until
from tests.support.raw_faktory import RawFaktory, connect, job

PASSWORD = "test-token"  # the emulator fixture's token is its Faktory password


@pytest.fixture
def faktory(emulator: EmulatorServer) -> Iterator[RawFaktory]:
    client = connect(emulator.faktory_url, PASSWORD)
    yield client
    client.close()


def state(client: RawFaktory, jid: str) -> str:
    return str(client.track(jid)["state"])


def test_the_greeting_asks_for_a_hash_with_a_salt_and_faktory_s_iteration_range(emulator):
    client = RawFaktory(emulator.faktory_url)
    greeting = client.hi()
    client.close()
    assert greeting["v"] == 2
    assert 4000 <= greeting["i"] <= 8095
    assert re.fullmatch(r"[0-9a-f]+", greeting["s"])


def test_a_wrong_password_is_refused_and_the_connection_closed(emulator):
    client = RawFaktory(emulator.faktory_url)
    reply = client.hello("not-the-token")
    assert reply is not None and reply.text == "ERR Invalid password"
    assert client.read() is None


def test_anything_but_hello_closes_the_connection_without_a_reply(emulator):
    client = RawFaktory(emulator.faktory_url)
    client.hi()
    assert client.call("INFO") is None


def test_push_fetch_track_set_ack(emulator, faktory):
    assert faktory.call("PUSH", job("job-00000001", queue="reports")).is_ok
    assert state(faktory, "job-00000001") == "enqueued"

    worker = connect(emulator.faktory_url, PASSWORD, wid="worker-1", hostname="h", pid=1, labels=[])
    fetched = worker.call("FETCH reports default").json()
    assert fetched["jid"] == "job-00000001" and fetched["queue"] == "reports"
    assert fetched["enqueued_at"].endswith("Z") and fetched["created_at"].endswith("Z")
    assert state(faktory, "job-00000001") == "working"

    assert worker.call("TRACK SET", {"jid": "job-00000001", "percent": 40, "desc": "Halfway"}).is_ok
    track = faktory.track("job-00000001")
    assert (track["percent"], track["desc"]) == (40, "Halfway")
    assert worker.call("BEAT", {"wid": "worker-1"}).is_ok

    assert worker.call("ACK", {"jid": "job-00000001"}).is_ok
    track = faktory.track("job-00000001")
    assert track["state"] == "success" and track["desc"] == "Halfway", "desc and percent outlive the job"
    (stored,) = emulator.jobs("faktory")
    assert stored["raw_status"] == "success"
    worker.close()


def test_failures_show_failed_until_the_retries_are_used_up_then_dead(emulator, faktory):
    faktory.call("PUSH", job("job-00000002", retry=1))
    for attempt, expected in ((1, "failed"), (2, "dead")):
        fetched = poll_until(
            lambda: (reply := faktory.call("FETCH default")).kind is ReplyKind.BULK and reply.json(), timeout=10.0
        )
        assert fetched["jid"] == "job-00000002", attempt
        faktory.call("FAIL", {"jid": "job-00000002", "errtype": "Boom", "message": "no disk", "backtrace": []})
        assert state(faktory, "job-00000002") == expected
    assert fetched["failure"]["message"] == "no disk"


@pytest.mark.parametrize("retry", [0, -1])
def test_no_retries_means_dead_at_the_first_failure(faktory, retry):
    faktory.call("PUSH", job("job-00000003", retry=retry))
    faktory.call("FETCH default")
    faktory.call("FAIL", {"jid": "job-00000003", "errtype": "Boom", "message": "x"})
    assert state(faktory, "job-00000003") == "dead"


def test_unknown_for_a_jid_never_pushed_and_for_a_job_pushed_without_track(faktory):
    faktory.call("PUSH", {"jid": "job-00000004", "jobtype": "Report", "args": []})
    assert state(faktory, "job-00000004") == "unknown"
    assert state(faktory, "never-pushed") == "unknown"
    assert faktory.track("never-pushed") == {"jid": "never-pushed", "state": "unknown"}


def test_tracking_records_expire_after_the_configured_time(emulator, faktory):
    emulator.faktory(track_ttl=0.3)
    faktory.call("PUSH", job("job-00000005"))
    faktory.call("FETCH default")
    faktory.call("ACK", {"jid": "job-00000005"})
    assert state(faktory, "job-00000005") == "success"
    poll_until(lambda: state(faktory, "job-00000005") == "unknown", timeout=5)
    assert emulator.jobs("faktory")[0]["expired"] is True


def test_oss_mode_refuses_track_like_open_source_faktory_and_reset_restores_enterprise(emulator, faktory):
    assert emulator.faktory(enterprise=False)["enterprise"] is False
    reply = faktory.call("TRACK GET job-00000006")
    assert reply.text == "ERR tracking subsystem is only available in Faktory Enterprise"
    assert faktory.call("PUSH", job("job-00000006")).is_ok, "OSS Faktory still takes jobs"

    emulator.reset()
    after_reset = emulator.faktory()
    assert (after_reset["enterprise"], after_reset["track_ttl"]) == (True, 1800)
    assert (after_reset["commands"], after_reset["connections"]) == ([], 0), "log and count start over"


def test_bad_pushes_get_faktory_s_errors(faktory):
    assert faktory.call("PUSH {not json").text.startswith("ERR invalid JSON")
    assert faktory.call("PUSH", {"jid": "job-00000007", "args": []}).text == "ERR jobs must have a jobtype parameter"
    assert faktory.call("PUSH", {"jid": "short", "jobtype": "X", "args": []}).text.startswith("ERR jobs must have a")
    assert faktory.call("FLY away").text == "ERR Unknown command FLY"
    assert faktory.call("ACK", {"jid": "nobody"}).is_error


def test_info_reports_queues_and_the_server(faktory):
    faktory.call("PUSH", job("job-00000008", queue="q1"))
    info = faktory.call("INFO").json()
    assert info["faktory"]["queues"] == {"q1": 1}
    assert info["server"]["faktory_version"]


def test_an_empty_fetch_waits_about_two_seconds_then_answers_null(faktory):
    began = time.monotonic()
    assert faktory.call("FETCH empty-queue").kind is ReplyKind.NULL
    assert 1.8 <= time.monotonic() - began < 5


# --- the built-in worker -------------------------------------------------------------------


def test_a_scripted_job_is_worked_by_the_built_in_worker_with_progress(emulator, faktory):
    emulator.script("faktory", outcome="succeeded", queue_seconds=0.1, duration=0.6, progress=[40, 80])
    faktory.call("PUSH", job("job-00000010"))
    seen = poll_until(lambda: (track := faktory.track("job-00000010")).get("percent") == 40 and track, timeout=10.0)
    assert (seen["state"], seen["desc"]) == ("working", "step 1 of 2")
    poll_until(lambda: state(faktory, "job-00000010") == "success", timeout=10.0)


def test_a_scripted_failure_shows_failed_between_attempts_and_ends_dead(emulator, faktory):
    emulator.script("faktory", outcome="failed", queue_seconds=0.05, duration=0.1, error="quota exceeded")
    faktory.call("PUSH", job("job-00000011", retry=2))
    states = []

    def watched_to_the_end() -> bool:
        current = state(faktory, "job-00000011")
        if not states or states[-1] != current:
            states.append(current)
        return current == "dead"

    poll_until(watched_to_the_end, timeout=10, interval=0.01)
    assert states.count("failed") == 2, states
    assert states[-1] == "dead"


def test_a_scripted_raw_outcome_is_the_final_track_state(emulator, faktory):
    emulator.script("faktory", outcome="unknown", queue_seconds=0, duration=0)
    faktory.call("PUSH", job("job-00000012"))
    poll_until(lambda: state(faktory, "job-00000012") == "unknown", timeout=10.0)


def test_an_unscripted_job_waits_for_a_real_worker(faktory):
    faktory.call("PUSH", job("job-00000013"))
    time.sleep(0.5)  # the built-in worker would have started it by now (queue_seconds 0.2)
    assert state(faktory, "job-00000013") == "enqueued"


def test_a_real_worker_that_fetches_first_takes_a_scripted_job_over(emulator, faktory):
    emulator.script("faktory", outcome="failed", queue_seconds=0.3, duration=0.1)
    faktory.call("PUSH", job("job-00000014"))
    assert faktory.call("FETCH default").json()["jid"] == "job-00000014"
    faktory.call("ACK", {"jid": "job-00000014"})
    time.sleep(0.6)
    assert state(faktory, "job-00000014") == "success"


# --- control, log, lifecycle ---------------------------------------------------------------


def test_the_command_log_shows_one_peer_per_connection_and_no_secrets(emulator, faktory):
    faktory.call("PUSH", job("job-00000015"))
    state(faktory, "job-00000015")
    other = connect(emulator.faktory_url, PASSWORD)
    state(other, "job-00000015")
    other.close()
    entries = [entry for entry in emulator.faktory()["commands"] if entry["jid"] == "job-00000015"]
    assert [entry["verb"] for entry in entries] == ["PUSH", "TRACK GET", "TRACK GET"]
    assert len({entry["peer"] for entry in entries}) == 2
    assert "HELLO" not in str(emulator.faktory()) and "pwdhash" not in str(emulator.faktory())


@pytest.mark.parametrize(
    ("settings", "says"),
    [({"enterprise": "no"}, "true or false"), ({"track_ttl": 0}, "> 0"), ({"ttl": 1}, "unknown field")],
)
def test_bad_settings_are_refused(emulator, settings, says):
    with pytest.raises(EmulatorControlError, match=says):
        emulator.faktory(**settings)


def test_faktory_url_is_discovered_from_the_control_endpoint(emulator):
    elsewhere = EmulatorServer(emulator.url, emulator.token)
    assert elsewhere.faktory_url == emulator.faktory_url
    assert elsewhere.faktory_port == urlsplit(emulator.faktory_url).port


def test_the_listener_stops_with_the_emulator_even_with_clients_connected():
    with run_emulator(token="t") as emulator:
        client = connect(emulator.faktory_url, "t")
        parts = urlsplit(emulator.faktory_url)
    assert client.read() is None, "the server closed the connection"
    with pytest.raises(OSError):
        socket.create_connection((parts.hostname, parts.port), timeout=1).close()


def test_the_cli_prints_the_faktory_address_on_its_second_line():
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_jobs_provider.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("jobs-emulator listening on http://")
        match = re.fullmatch(r"jobs-emulator Faktory protocol on (tcp://127\.0\.0\.1:\d+)\n", process.stdout.readline())
        assert match, "second line names the Faktory address"
        client = connect(match[1], "emulator-token")
        assert client.call("INFO").kind is ReplyKind.BULK
        client.close()
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert process.returncode == 0
