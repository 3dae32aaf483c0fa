"""One retry policy for the sync hook and the async trigger.

Retried: 5xx, 429 and connection failures, honouring Retry-After. A request that starts a job
is retried only when the server certainly never saw it, so a retry never starts a second job.
The transports are driven with a fake ``_send_once``: no sockets, tiny waits.
"""

from __future__ import annotations

import email.utils
import logging
import time
from datetime import datetime, timedelta, timezone

import pytest

from airflow_jobs_provider.apis.exchange import Request, Response, arun_exchange
from airflow_jobs_provider.apis.job import JobStatus
from airflow_jobs_provider.apis.tinybird import TinybirdApi
from airflow_jobs_provider.exceptions import JobStartUncertainError, JobsUnavailableError
from airflow_jobs_provider.hooks.http import AsyncTransport, SyncTransport
from airflow_jobs_provider.hooks.retry import (
    MAX_RETRY_AFTER,
    RetryPolicy,
    TransientError,
    parse_retry_after,
    transient_status,
)
from tests.support.api_settings import TINYBIRD_URL, tinybird_settings
from tests.support.scripted import Script

FAST = RetryPolicy(max_attempts=3, initial_wait=0.001, max_wait=0.01)
GET = Request("GET", "/v0/jobs/abc")
START = Request("POST", "/v0/pipes/p/copy", replayable=False)
OK = Response(200, {"id": "abc", "status": "done"})


def http_date(seconds_from_now: float) -> str:
    return email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now), usegmt=True)


# ---------------------------------------------------------------- which answers are transient


@pytest.mark.parametrize(
    ("status", "transient", "reached_server"),
    [
        (200, False, None),
        (204, False, None),
        (302, False, None),
        (400, False, None),
        (403, False, None),
        (404, False, None),
        (409, False, None),
        (429, True, False),  # rate limited before anything ran: safe to resend a start
        (500, True, True),
        (502, True, True),
        (503, True, False),  # the service refused the request as a whole
        (504, True, True),  # the gateway gave up; the job may have started behind it
    ],
)
def test_transient_status(status, transient, reached_server):
    error = transient_status(status, {})
    if not transient:
        assert error is None
    else:
        assert isinstance(error, TransientError)
        assert error.reason == f"HTTP {status}"
        assert error.reached_server is reached_server
        assert error.retry_after is None


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "86400"}, MAX_RETRY_AFTER),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past: retry now
    ],
)
def test_retry_after_seconds_and_past_dates(headers, seconds):
    assert transient_status(429, headers).retry_after == seconds


def test_retry_after_as_a_future_http_date():
    waited = transient_status(503, {"Retry-After": http_date(20)}).retry_after
    assert 17.0 <= waited <= 20.0  # HTTP dates have one-second precision


@pytest.mark.parametrize("value", ["soon", "tomorrow at noon", "  ", "Wed, 99 Foo 2015"])
def test_an_unreadable_retry_after_is_ignored_not_fatal(value):
    # a proxy's odd header must not turn a retryable 503 into a crash
    assert parse_retry_after(value) is None
    error = transient_status(503, {"Retry-After": value})
    assert isinstance(error, TransientError)
    assert error.retry_after is None


# ---------------------------------------------------------------- the sync transport under the policy


@pytest.fixture
def sync_transport():
    transport = SyncTransport(tinybird_settings(), FAST)
    yield transport
    transport.close()


def test_a_replayable_request_is_retried_until_it_succeeds(sync_transport, mocker):
    send_once = mocker.patch.object(
        sync_transport, "_send_once", side_effect=[TransientError("HTTP 502"), TransientError("timed out"), OK]
    )
    assert sync_transport.send(GET) is OK
    assert send_once.call_count == 3


def test_after_max_attempts_the_error_says_how_many_and_the_last_error(sync_transport, mocker):
    send_once = mocker.patch.object(
        sync_transport,
        "_send_once",
        side_effect=[TransientError("HTTP 502"), TransientError("HTTP 500"), TransientError("connection failed")],
    )
    with pytest.raises(JobsUnavailableError) as caught:
        sync_transport.send(GET)
    assert send_once.call_count == FAST.max_attempts
    text = str(caught.value)
    assert f"GET {TINYBIRD_URL}/v0/jobs/abc failed 3 time(s)" in text
    assert "(last error: connection failed)" in text
    assert "try again later" in text


def test_a_start_that_may_have_reached_the_server_is_not_retried(sync_transport, mocker):
    send_once = mocker.patch.object(sync_transport, "_send_once", side_effect=[TransientError("HTTP 502"), OK])
    with pytest.raises(JobsUnavailableError) as caught:
        sync_transport.send(START)
    assert send_once.call_count == 1  # a second POST could start a second job
    text = str(caught.value)
    assert "HTTP 502" in text
    assert "not retried so that no second job starts" in text
    assert "List recent jobs" in text
    assert isinstance(caught.value, JobStartUncertainError), "a task retry could start a second job too"


def test_a_start_the_server_never_saw_is_retried(sync_transport, mocker):
    send_once = mocker.patch.object(
        sync_transport,
        "_send_once",
        side_effect=[TransientError("connection failed (NewConnectionError)", reached_server=False),
                     transient_status(429, {}), OK],
    )
    assert sync_transport.send(START) is OK
    assert send_once.call_count == 3


def test_a_start_refused_every_time_reports_the_attempts(sync_transport, mocker):
    mocker.patch.object(sync_transport, "_send_once", side_effect=[transient_status(503, {})] * 3)
    with pytest.raises(JobsUnavailableError, match=r"failed 3 time\(s\) \(last error: HTTP 503\)"):
        sync_transport.send(START)


def test_other_exceptions_are_not_retried(sync_transport, mocker):
    send_once = mocker.patch.object(sync_transport, "_send_once", side_effect=[KeyError("bug"), OK])
    with pytest.raises(KeyError):
        sync_transport.send(GET)
    assert send_once.call_count == 1


def test_max_seconds_bounds_the_retries_too(mocker):
    transport = SyncTransport(tinybird_settings(), RetryPolicy(max_attempts=50, max_seconds=0.0, initial_wait=0.001))
    send_once = mocker.patch.object(transport, "_send_once", side_effect=TransientError("HTTP 500"))
    with pytest.raises(JobsUnavailableError, match=r"failed 1 time\(s\)"):
        transport.send(GET)
    assert send_once.call_count == 1
    transport.close()


# ---------------------------------------------------------------- the waits tenacity computes


def drive(retrying, outcomes):
    """Run ``outcomes`` (exceptions raised in turn, then a value) through a tenacity Retrying."""
    pending = list(outcomes)
    for attempt in retrying:
        with attempt:
            outcome = pending.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome
    raise AssertionError("unreachable")


def test_retry_after_is_the_wait():
    sleeps: list[float] = []
    retrying = FAST.sync(GET).copy(sleep=sleeps.append)
    assert drive(retrying, [transient_status(429, {"Retry-After": "2.5"}), OK]) is OK
    assert sleeps == [2.5]  # not the policy's millisecond backoff
    assert retrying.statistics["attempt_number"] == 2
    assert retrying.statistics["idle_for"] == 2.5


def test_without_retry_after_the_wait_is_the_bounded_backoff():
    sleeps: list[float] = []
    retrying = FAST.sync(GET).copy(sleep=sleeps.append)
    drive(retrying, [TransientError("HTTP 500"), TransientError("HTTP 500"), OK])
    assert len(sleeps) == 2
    assert all(0 < wait <= FAST.max_wait for wait in sleeps)


def test_each_retry_is_logged_with_the_attempt_and_the_wait(caplog):
    retrying = FAST.sync(GET, logging.getLogger("unit.retry")).copy(sleep=lambda _: None)
    with caplog.at_level(logging.WARNING, logger="unit.retry"):
        drive(retrying, [transient_status(503, {"Retry-After": "4"}), OK])
    assert caplog.messages == ["GET /v0/jobs/abc failed (HTTP 503), attempt 1 of 3; retrying in 4.0s"]


def test_retrying_a_start_stops_at_the_first_error_that_reached_the_server():
    sleeps: list[float] = []
    retrying = FAST.sync(START).copy(sleep=sleeps.append)
    with pytest.raises(TransientError, match="HTTP 500"):
        drive(retrying, [transient_status(429, {"Retry-After": "1"}), transient_status(500, {}), OK])
    assert sleeps == [1.0]
    assert retrying.statistics["attempt_number"] == 2


def test_final_error_for_a_replayable_request_counts_attempts():
    error = RetryPolicy.final_error(GET, TransientError("HTTP 504"), 5, "https://h")
    assert isinstance(error, JobsUnavailableError)
    assert str(error).startswith("GET https://h/v0/jobs/abc failed 5 time(s) (last error: HTTP 504)")


# ---------------------------------------------------------------- the async transport


async def test_async_transport_retries_and_reports_like_the_sync_one(mocker):
    transport = AsyncTransport(tinybird_settings(), FAST)
    try:
        send_once = mocker.patch.object(
            transport, "_send_once", side_effect=[TransientError("HTTP 502"), transient_status(429, {}), OK]
        )
        assert await transport.send(GET) is OK
        assert send_once.call_count == 3

        send_once = mocker.patch.object(transport, "_send_once", side_effect=[TransientError("HTTP 502")] * 3)
        with pytest.raises(JobsUnavailableError, match=r"failed 3 time\(s\) \(last error: HTTP 502\)"):
            await transport.send(GET)

        send_once = mocker.patch.object(transport, "_send_once", side_effect=[TransientError("HTTP 502"), OK])
        with pytest.raises(JobsUnavailableError, match="not retried so that no second job starts"):
            await transport.send(START)
        assert send_once.call_count == 1
    finally:
        await transport.close()


async def test_async_retrying_honours_retry_after():
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    retrying = FAST.asynchronous(GET).copy(sleep=sleep)
    outcomes = [transient_status(503, {"Retry-After": "3"}), OK]
    started = time.monotonic()
    async for attempt in retrying:
        with attempt:
            outcome = outcomes.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
    assert sleeps == [3.0]
    assert retrying.statistics["attempt_number"] == 2
    assert time.monotonic() - started < 1.0  # the fake sleep was used


async def test_arun_exchange_drives_the_same_exchange_asynchronously():
    api = TinybirdApi(tinybird_settings())
    script = Script(Response(404, {"error": "not found"}), Response(200, {"data": [{"status": "done", "error": ""}]}))

    job = await arun_exchange(api.get_job("abc"), script.asend)
    assert job.status is JobStatus.SUCCEEDED
    assert [r.path for r in script.requests] == ["/v0/jobs/abc", "/v0/sql"]
