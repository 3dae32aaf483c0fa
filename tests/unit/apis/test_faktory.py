"""The Faktory adapter without a server: commands it sends, replies it reads, the states it reports."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator
from typing import Any

import pytest

from airflow_jobs_provider.apis.faktory.api import STATES, FaktoryApi, check_hello, hello_command, password_hash
from airflow_jobs_provider.apis.faktory.job import new_jid, pushed_at, work_unit
from airflow_jobs_provider.apis.faktory.wire import Command, Reply, ReplyKind
from airflow_jobs_provider.apis.job import JobStatus
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.exceptions import (
    InvalidJobIdError,
    JobsApiError,
    JobsAuthError,
    JobsConfigError,
    UnknownJobStateError,
)
from tests.support.api_settings import TOKEN
from tests.support.scripted import Script

NOW = 1_800_000_000.0
OSS_ERROR = Reply.error("tracking subsystem is only available in Faktory Enterprise")


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def settings(**extras: Any) -> ApiSettings:
    return ApiSettings(conn_id="fk", api="faktory", base_url="tcp://faktory:7419", token=TOKEN, extras=extras)


def api(clock: Clock | None = None, overrides: dict[str, str] | None = None, **extras: Any) -> FaktoryApi:
    return FaktoryApi(settings(**extras), overrides, clock=clock or Clock())


def track(state: str, **fields: Any) -> Reply:
    return Reply.bulk({"jid": "j-12345678", "state": state, **fields})


def drive(exchange: Generator[Command, Reply, Any], *replies: Reply) -> tuple[Any, list[Command]]:
    """Answer each command with the next reply (the scripted transport); return the result and the commands sent."""
    script = Script(*replies)
    return script.run(exchange), script.requests


# --- handshake ---------------------------------------------------------------------------


@pytest.mark.parametrize("iterations", [1, 2, 5, 4000])
def test_password_hash_is_i_applications_of_sha256_over_password_and_salt(iterations):
    expected = hashlib.sha256(b"s3cret" + b"a1b2c3").digest()
    for _ in range(iterations - 1):
        expected = hashlib.sha256(expected).digest()
    assert password_hash("s3cret", "a1b2c3", iterations) == expected.hex()
    assert password_hash("s3cret", "a1b2c3", iterations).islower()


def test_password_hash_known_value():
    # sha256("password" + "salt") once, as in the protocol spec's 1-iteration case.
    assert password_hash("password", "salt", 1) == "7a37b85c8918eac19a9089c0fa5a2ab4dce3f90528dcdeec108b23ddf3607b99"


def test_hello_answers_the_salt_with_the_hash_and_never_the_password():
    hi = Reply(ReplyKind.SIMPLE, 'HI {"v":2,"i":1735,"s":"123456789abc"}')
    hello = hello_command(hi, settings())
    assert hello.verb == "HELLO"
    assert hello.json() == {"v": 2, "pwdhash": password_hash(TOKEN, "123456789abc", 1735)}
    assert TOKEN not in hello.encode().decode()


def test_hello_without_a_salt_sends_no_hash():
    assert hello_command(Reply(ReplyKind.SIMPLE, 'HI {"v":2}'), settings()).json() == {"v": 2}


def test_a_server_that_wants_a_password_the_connection_lacks_says_where_to_put_it():
    no_password = ApiSettings(conn_id="fk", api="faktory", base_url="tcp://faktory:7419")
    with pytest.raises(JobsAuthError, match="requires a password: set it as the password of connection 'fk'"):
        hello_command(Reply(ReplyKind.SIMPLE, 'HI {"v":2,"i":5,"s":"x"}'), no_password)


@pytest.mark.parametrize(
    ("hi", "says"),
    [
        (Reply(ReplyKind.SIMPLE, "HELLO"), "did not greet like a Faktory server"),
        (Reply(ReplyKind.BULK, "{}"), "did not greet like a Faktory server"),
        (Reply(ReplyKind.SIMPLE, "HI [1]"), "not a JSON object"),
        (Reply(ReplyKind.SIMPLE, 'HI {"v":2,"i":1000000000,"s":"x"}'), "password-hash iterations"),
    ],
)
def test_a_strange_greeting_is_refused(hi, says):
    with pytest.raises(JobsApiError, match=says):
        hello_command(hi, settings())


def test_check_hello():
    check_hello(Reply.ok(), settings())
    with pytest.raises(JobsAuthError, match=r"refused the password .*connection 'fk'") as error:
        check_hello(Reply.error("Invalid password"), settings())
    assert TOKEN not in str(error.value)
    with pytest.raises(JobsApiError, match="refused the handshake"):
        check_hello(Reply.error("Invalid protocol version"), settings())


# --- states --------------------------------------------------------------------------------


def test_the_state_table():
    assert {raw: status.value for raw, status in STATES.items()} == {
        "unknown": "PENDING",
        "enqueued": "PENDING",
        "working": "RUNNING",
        "failed": "RUNNING",
        "success": "SUCCEEDED",
        "dead": "FAILED",
    }


def test_working_carries_percent_as_progress_and_desc_as_message():
    job, sent = drive(api().get_job("j-12345678"), track("working", percent=40, desc="Calculating..."))
    assert sent == [Command("TRACK GET", "j-12345678")]
    assert (job.status, job.raw_status) == (JobStatus.RUNNING, "working")
    assert (job.progress, job.message) == (40.0, "Calculating...")
    assert job.payload["percent"] == 40


@pytest.mark.parametrize(
    ("state", "status"),
    [("enqueued", JobStatus.PENDING), ("success", JobStatus.SUCCEEDED), ("dead", JobStatus.FAILED)],
)
def test_each_state_maps(state, status):
    job, _ = drive(api().get_job("j-12345678"), track(state))
    assert job.status is status


def test_a_failed_attempt_keeps_running_and_says_faktory_will_retry():
    job, _ = drive(api().get_job("j-12345678"), track("failed", desc="step 2 of 3"))
    assert job.status is JobStatus.RUNNING
    assert job.message == "attempt failed, Faktory will retry: step 2 of 3"


def test_a_task_can_make_a_failed_attempt_final():
    job, _ = drive(api(overrides={"failed": "FAILED"}).get_job("j-12345678"), track("failed"))
    assert job.status is JobStatus.FAILED
    assert job.message.startswith("attempt failed, Faktory will retry")


def test_dead_says_retries_are_exhausted():
    job, _ = drive(api().get_job("j-12345678"), track("dead", desc="step 1 of 2"))
    assert "retries exhausted" in job.message and "Dead" in job.message and "step 1 of 2" in job.message


def test_a_state_faktory_may_add_later_is_not_guessed():
    with pytest.raises(UnknownJobStateError, match="'paused'"):
        drive(api().get_job("j-12345678"), track("paused"))


@pytest.mark.parametrize(
    "reply",
    [Reply.bulk({"jid": "x"}), Reply.bulk("not json"), Reply.bulk([1]), Reply.error("Something broke")],
)
def test_a_broken_track_is_an_api_error(reply):
    with pytest.raises(JobsApiError):
        drive(api().get_job("j-12345678"), reply)


def test_open_source_faktory_gets_an_error_that_says_enterprise_is_required():
    with pytest.raises(JobsConfigError, match="needs Faktory Enterprise's TRACK command") as error:
        drive(api().get_job("j-12345678"), OSS_ERROR)
    assert "connection 'fk'" in str(error.value)


# --- the dreaded unknown -------------------------------------------------------------------


def test_unknown_right_after_a_push_is_pending_until_the_grace_ends_then_failed_with_the_causes():
    clock = Clock()
    jid = new_jid(clock.now)
    adapter = api(clock, unknown_grace_seconds=60)

    clock.now += 59
    job, _ = drive(adapter.get_job(jid), Reply.bulk({"jid": jid, "state": "unknown"}))
    assert (job.status, job.raw_status) == (JobStatus.PENDING, "unknown")
    assert "fails if still unknown in 1s" in job.message

    clock.now += 1
    job, _ = drive(adapter.get_job(jid), Reply.bulk({"jid": jid, "state": "unknown"}))
    assert (job.status, job.raw_status) == (JobStatus.FAILED, "unknown")
    for cause in ("never enqueued", 'custom {"track": 1}', "expired", "30 minutes"):
        assert cause in job.message


def test_the_grace_of_a_pushed_jid_holds_in_any_process():
    """Reschedule mode builds a new adapter per poke: the push time in the jid still counts."""
    jid = new_jid(NOW)
    late = api(Clock(NOW + 61), unknown_grace_seconds=60)
    job, _ = drive(late.get_job(jid), Reply.bulk({"jid": jid, "state": "unknown"}))
    assert job.status is JobStatus.FAILED
    assert pushed_at(jid) == NOW


def test_a_foreign_jid_counts_from_the_first_unknown_this_watcher_saw_and_restarts_once_known():
    clock = Clock()
    adapter = api(clock, unknown_grace_seconds=10)
    unknown = Reply.bulk({"jid": "their-jid-1", "state": "unknown"})

    assert drive(adapter.get_job("their-jid-1"), unknown)[0].status is JobStatus.PENDING
    clock.now += 10
    assert drive(adapter.get_job("their-jid-1"), unknown)[0].status is JobStatus.FAILED

    drive(adapter.get_job("their-jid-1"), Reply.bulk({"jid": "their-jid-1", "state": "enqueued"}))
    clock.now += 5
    assert drive(adapter.get_job("their-jid-1"), unknown)[0].status is JobStatus.PENDING


def test_a_zero_grace_fails_unknown_at_once_and_a_null_reply_counts_as_unknown():
    job, _ = drive(api(unknown_grace_seconds=0).get_job("their-jid-1"), Reply.null())
    assert (job.status, job.raw_status) == (JobStatus.FAILED, "unknown")


def test_a_task_that_maps_unknown_itself_gets_no_grace():
    job, _ = drive(api(overrides={"unknown": "SUCCEEDED"}).get_job("their-jid-1"), Reply.bulk({"state": "unknown"}))
    assert job.status is JobStatus.SUCCEEDED


@pytest.mark.parametrize("grace", [-1, "soon", True, float("nan")])
def test_a_bad_grace_is_a_config_error(grace):
    with pytest.raises(JobsConfigError, match="unknown_grace_seconds"):
        api(unknown_grace_seconds=grace)


def test_generated_jids_are_unique_and_carry_their_push_time_to_the_millisecond():
    jids = {new_jid(NOW + 0.123) for _ in range(100)}
    assert len(jids) == 100
    assert {pushed_at(jid) for jid in jids} == {NOW + 0.123}
    assert pushed_at("airflow-123-abc") is None
    assert pushed_at("some-other-jid") is None


# --- push ----------------------------------------------------------------------------------


def test_push_checks_tracking_first_then_pushes_a_tracked_job_and_reports_it_enqueued():
    adapter = api()
    spec = {"jobtype": "SendReport", "args": [42, "x"], "queue": "reports", "retry": 3, "custom": {"team": "bi"}}
    job, sent = drive(adapter.start_job(spec), Reply.bulk({"state": "unknown"}), Reply.ok())

    jid = job.job_id
    assert [command.verb for command in sent] == ["TRACK GET", "PUSH"]
    assert sent[0].argument == jid
    assert not sent[1].replayable, "a PUSH is never resent blindly"
    assert sent[1].json() == {
        "jid": jid,
        "jobtype": "SendReport",
        "args": [42, "x"],
        "queue": "reports",
        "retry": 3,
        "custom": {"team": "bi", "track": 1},
    }
    assert (job.status, job.raw_status) == (JobStatus.PENDING, "enqueued")
    assert pushed_at(jid) == pytest.approx(NOW, abs=0.001)


def test_track_is_always_set_and_a_given_jid_is_kept():
    spec = {"jid": "my-own-jid-1", "jobtype": "X", "custom": {"track": 0}, "at": "2026-01-01T09:00:00Z"}
    work = work_unit(spec, NOW)
    assert work["jid"] == "my-own-jid-1"
    assert work["custom"] == {"track": 1}
    assert work["args"] == []
    assert work["at"] == "2026-01-01T09:00:00Z"


def test_templated_numbers_arrive_as_strings_and_are_read_as_numbers():
    assert work_unit({"jobtype": "X", "retry": "2", "reserve_for": "120"}, NOW)["retry"] == 2


def test_an_open_source_server_fails_the_push_before_anything_is_enqueued():
    with pytest.raises(JobsConfigError, match="Enterprise"):
        drive(api().start_job({"jobtype": "X"}), OSS_ERROR)


@pytest.mark.parametrize("state", ["enqueued", "working", "failed"])
def test_a_jid_that_is_still_active_is_not_pushed_twice(state):
    with pytest.raises(JobsConfigError, match="pushing it again would run it twice"):
        drive(api().start_job({"jobtype": "X", "jid": "report-2026-01-01"}), track(state))


def test_a_refused_push_carries_faktory_s_message():
    with pytest.raises(JobsApiError, match=r"refused to push job .* NOTUNIQUE Job not unique"):
        drive(api().start_job({"jobtype": "X"}), track("unknown"), Reply(ReplyKind.ERROR, "NOTUNIQUE Job not unique"))


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ({"args": [1]}, "needs 'jobtype'"),
        ({"jobtype": "X", "args": "1,2"}, "'args' must be a list"),
        ({"jobtype": "X", "kind": "copy"}, "unknown key"),
        ({"jobtype": "X", "queue": "two words"}, "queue name"),
        ({"jobtype": "X", "retry": -2}, "'retry' must be an integer >= -1"),
        ({"jobtype": "X", "reserve_for": 30}, "'reserve_for' must be an integer >= 60"),
        ({"jobtype": "X", "at": "tomorrow"}, "RFC 3339"),
        ({"jobtype": "X", "at": "2026-01-01T09:00:00"}, "with a zone"),
        ({"jobtype": "X", "custom": ["track"]}, "'custom' must be a dict"),
        ({"jobtype": "X", "args": [object()]}, "not JSON"),
        ({"jobtype": "X", "jid": "two words"}, "spaces"),
    ],
)
def test_bad_specs_are_refused_before_anything_is_sent(spec, says):
    with pytest.raises(JobsConfigError, match=says):
        work_unit(spec, NOW)


@pytest.mark.parametrize("job_id", ["", "a b", "a\r\nFLUSH", 7, None, "x" * 513])
def test_job_ids_that_cannot_travel_on_a_command_line_are_refused(job_id):
    with pytest.raises(InvalidJobIdError):
        next(api().get_job(job_id))


# --- what Faktory cannot do ----------------------------------------------------------------


def test_listing_is_a_config_error_that_says_why():
    with pytest.raises(JobsConfigError, match="Faktory cannot list jobs"):
        next(api().list_jobs({}))


def test_cancel_reads_the_job_and_explains_that_faktory_cannot_stop_it():
    with pytest.raises(JobsApiError, match=r"cannot cancel job j-12345678 \(RUNNING .*no command that stops a job"):
        drive(api().cancel_job("j-12345678"), track("working"))


def test_probe_runs_info_and_checks_tracking():
    info = Reply.bulk({"server": {"faktory_version": "1.9.1"}, "faktory": {}})
    text, sent = drive(api().probe(), info, track("unknown"))
    assert [command.verb for command in sent] == ["INFO", "TRACK GET"]
    assert text == "Connected to Faktory 1.9.1 at tcp://faktory:7419; tracking is on"
    with pytest.raises(JobsConfigError, match="Enterprise"):
        drive(api().probe(), info, OSS_ERROR)


def test_nothing_the_adapter_raises_shows_the_password():
    for reply in (Reply.error("Invalid password"), Reply.bulk("garbage")):
        with pytest.raises(JobsApiError) as error:
            drive(api().get_job("j-12345678"), reply)
        assert TOKEN not in str(error.value)
    assert TOKEN not in json.dumps(work_unit({"jobtype": "X"}, NOW))
