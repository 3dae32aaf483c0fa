"""Bad input, case by case: each fails with one of our AirflowExceptions naming the problem and the fix.

Job ids, connections, task options and server answers (the emulator, or a deliberately broken
server for answers the emulator never gives) go through the real hook, sensor and operator over
real HTTP. A job id can never reach another endpoint: the emulator's access log shows the exact
path each id produced. The README's "Bad input" list is this table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_jobs_provider import exceptions
from airflow_jobs_provider.emulator.connections import ACME_EXTRAS
from airflow_jobs_provider.exceptions import (
    InvalidJobIdError,
    JobNotFoundError,
    JobsApiError,
    JobsAuthError,
    JobsConfigError,
    JobsUnavailableError,
    UnknownJobStateError,
)
from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.operators.jobs import TriggerJobOperator
from airflow_jobs_provider.sensors.jobs import JobSensor
from tests.conftest import TOKEN
from tests.support.airflow_versions import keeps_a_connection_whose_extra_is_not_json, only_airflow_3_0_and_3_1
from tests.support.jobs import start_tinybird_job
from tests.support.odd_api import OddApi, odd_api

FAST = {"retry_attempts": 2, "retry_initial_wait": 0.01, "retry_max_wait": 0.02}


@dataclass
class Env:
    """What a case may use: the emulator, the odd API, and a way to add a connection."""

    live: Any
    odd: OddApi
    other: OddApi
    monkeypatch: pytest.MonkeyPatch

    def conn(self, conn_id: str, extra: Any = None, **fields: Any) -> str:
        value = {"conn_type": "jobs", "host": self.live.url, "password": TOKEN, **fields}
        if extra is not None:
            value["extra"] = extra
        self.monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value))
        return conn_id

    def odd_conn(self, api: dict[str, Any]) -> str:
        return self.conn("odd", {**api, **FAST}, host=self.odd.url)


@dataclass(frozen=True)
class Case:
    name: str
    act: Callable[[Env], Any]
    error: type[Exception]
    says: tuple[str, ...]
    """The problem and the fix, as the message must word them."""
    path: str | None = None
    """For job ids that pass the checks: the one path the emulator must have seen."""
    extra_checks: tuple[Callable[[Env], None], ...] = field(default=())


def tinybird_get(job_id: Any) -> Callable[[Env], Any]:
    return lambda env: JobsHook("jobs_default").get_job(job_id)


def acme_get(job_id: Any) -> Callable[[Env], Any]:
    return lambda env: JobsHook("jobs_acme").get_job(job_id)


def with_conn(extra: Any, **fields: Any) -> Callable[[Env], Any]:
    return lambda env: JobsHook(env.conn("bad", extra, **fields)).get_job("42")


def odd_get(case: str, api: str = "tinybird") -> Callable[[Env], Any]:
    extras = {"api": "tinybird"} if api == "tinybird" else dict(ACME_EXTRAS)
    return lambda env: JobsHook(env.odd_conn(extras)).get_job(case)


async def _aget(conn_id: str, job_id: str) -> Any:
    async with JobsHook(conn_id) as hook:
        return await hook.aget_job(job_id)


def odd_aget(case: str) -> Callable[[Env], Any]:
    import asyncio

    return lambda env: asyncio.run(_aget(env.odd_conn({"api": "tinybird"}), case))


def unknown_state(env: Env) -> Any:
    job_id = start_tinybird_job(env.live, "succeeded", queue_seconds=30)
    env.live.force_state("tinybird", job_id, "exploded")
    return JobsHook("jobs_default").get_job(job_id)


def run_operator(job: Any) -> Callable[[Env], Any]:
    def act(env: Env) -> Any:
        ti = type("TI", (), {"xcom_push": staticmethod(lambda key, value: None)})()
        return TriggerJobOperator(task_id="t", job=job).execute({"ti": ti})

    return act


def nothing_reached_the_other_host(env: Env) -> None:
    assert env.other.seen == [], "a redirect was followed, with the token, to another host"


ID_HINT = "check the XCom"
CASES = [
    # -- job ids
    Case("id empty", tinybird_get(""), InvalidJobIdError, ("job id is empty", ID_HINT)),
    Case("id whitespace", tinybird_get("   "), InvalidJobIdError, ("job id is empty", ID_HINT)),
    Case("id None", tinybird_get(None), InvalidJobIdError, ("must be a string, got NoneType", "xcom_pull")),
    Case("id not a string", tinybird_get(42), InvalidJobIdError, ("must be a string, got int", "xcom_pull")),
    Case("id 10 KB", tinybird_get("a" * 10_240), InvalidJobIdError,
         ("10240 characters long", "check what the template")),
    Case("id newline", tinybird_get("abc\n"), InvalidJobIdError, ("control characters", "strip it")),
    Case("id '..'", tinybird_get(".."), InvalidJobIdError, ("is a path step", "pass the id the start call returned")),
    Case("id unicode", tinybird_get("jöb-ü"), JobNotFoundError, ("has no job jöb-ü", "check the job id"),
         path="/v0/jobs/j%C3%B6b-%C3%BC"),
    Case("id with '/'", tinybird_get("a/b"), JobNotFoundError, ("has no job a/b", "check the job id"),
         path="/v0/jobs/a%2Fb"),
    Case("id '../v0/jobs'", tinybird_get("../v0/jobs"), JobNotFoundError, ("has no job", "check the job id"),
         path="/v0/jobs/..%2Fv0%2Fjobs"),
    Case("id with '?'", tinybird_get("a?b=c"), JobNotFoundError, ("has no job a?b=c", "check the job id"),
         path="/v0/jobs/a%3Fb%3Dc"),
    Case("id with '#'", tinybird_get("a#frag"), JobNotFoundError, ("has no job a#frag", "check the job id"),
         path="/v0/jobs/a%23frag"),
    Case("id '%2F'", tinybird_get("%2F"), JobNotFoundError, ("has no job %2F", "check the job id"),
         path="/v0/jobs/%252F"),
    Case("rest id with '/'", acme_get("x/../../v0/jobs"), JobNotFoundError, ("has no job", "check the job id"),
         path="/acme/v2/runs/x%2F..%2F..%2Fv0%2Fjobs"),
    Case("rest id '.'", acme_get("."), InvalidJobIdError, ("is a path step", "pass the id")),
    Case("sensor id empty", lambda env: JobSensor(task_id="s", job_id="", poke_interval=1).poke({}),
         InvalidJobIdError, ("job id is empty", ID_HINT)),
    # -- connections
    Case("no host", with_conn({"api": "tinybird"}, host=""), JobsConfigError,
         ("has no host", "set it to the API's base URL")),
    Case("no scheme", with_conn({"api": "tinybird"}, host="api.tinybird.co"), JobsConfigError,
         ("has no scheme", "write it as https://api.tinybird.co")),
    Case("credentials in host", with_conn({"api": "tinybird"}, host="https://me:pw@api.tinybird.co"), JobsConfigError,
         ("must not carry credentials", "password field")),
    Case("no api", with_conn({}), JobsConfigError, ("does not say which API", '{"api": "tinybird"}')),
    Case("unknown api", with_conn({"api": "jenkins"}), JobsConfigError, ("names api 'jenkins'", "use one of")),
    Case("extra not JSON", with_conn("{api: tinybird"), JobsConfigError, ("not valid JSON", "write a JSON object")),
    Case("timeout not positive", with_conn({"api": "tinybird", "timeout": -1}), JobsConfigError,
         ("'timeout' must be a positive number",)),
    Case("verify not a bool or path", with_conn({"api": "tinybird", "verify": 5}), JobsConfigError,
         ("'verify' must be true, false or a CA bundle path",)),
    Case("retry_attempts 0", with_conn({"api": "tinybird", "retry_attempts": 0}), JobsConfigError,
         ("'retry_attempts' must be a whole number from 1 to 100",)),
    Case("retry_attempts 2.5", with_conn({"api": "tinybird", "retry_attempts": 2.5}), JobsConfigError,
         ("'retry_attempts' must be a whole number",)),
    Case("retry waits reversed", with_conn({"api": "tinybird", "retry_initial_wait": 2, "retry_max_wait": 1}),
         JobsConfigError, ("'retry_max_wait' (1s) is below 'retry_initial_wait' (2s)", "raise it")),
    Case("wrong token (403)", lambda env: JobsHook(env.conn("bad", {"api": "tinybird"}, password="wrong")).get_job("1"),
         JobsAuthError, ("HTTP 403", "check the token in connection 'bad'")),
    Case("wrong token (401)", lambda env: JobsHook(env.conn("bad", ACME_EXTRAS, password="wrong")).get_job("1"),
         JobsAuthError, ("HTTP 401", "check the token in connection 'bad'")),
    Case("wrong client secret", lambda env: JobsHook(env.conn(
        "bad", {"api": "airbyte"}, host=f"{env.live.url}/v1", login="emulator-client", password="wrong")).get_job("1"),
         JobsAuthError, ("airbyte", "client")),
    Case("rest extras missing", with_conn({"api": "rest", "start": "POST /runs"}), JobsConfigError,
         ("lacks extra get, id_field, state_field, states", "'Declarative REST API' section")),
    Case("rest bad state map", with_conn({**ACME_EXTRAS, "states": {"DONE": "FINISHED"}}), JobsConfigError,
         ("states['DONE']", "use one of PENDING")),
    Case("rest bad endpoint", with_conn({**ACME_EXTRAS, "get": "fetch the run"}), JobsConfigError,
         ("must read 'METHOD /path'", "GET /v1/jobs/{job_id}")),
    Case("faktory http host", with_conn({"api": "faktory"}, host="http://faktory:7419"), JobsConfigError,
         ("is not a Faktory address", "tcp://faktory:7419")),
    # -- task options
    Case("poke_interval 0", lambda env: JobSensor(task_id="s", job_id="1", poke_interval=0), JobsConfigError,
         ("poke_interval must be a positive number of seconds",)),
    Case("poke_interval negative", lambda env: JobSensor(task_id="s", job_id="1", poke_interval=-5), JobsConfigError,
         ("poke_interval must be a positive number of seconds",)),
    Case("poll_interval negative", lambda env: TriggerJobOperator(task_id="t", job={}, poll_interval=-1),
         JobsConfigError, ("poll_interval must be a positive number of seconds",)),
    Case("operator timeout below poll_interval",
         lambda env: TriggerJobOperator(task_id="t", job={}, poll_interval=10, timeout=1), JobsConfigError,
         ("timeout (1s) is shorter than poll_interval (10s)", "raise timeout or lower poll_interval")),
    Case("sensor timeout below poke_interval",
         lambda env: JobSensor(task_id="s", job_id="1", poke_interval=30, timeout=5), JobsConfigError,
         ("timeout (5s) is shorter than poke_interval (30s)", "raise timeout or lower poke_interval")),
    Case("status_overrides unknown value",
         lambda env: JobSensor(task_id="s", job_id="1", status_overrides={"done": "FINISHED"}), JobsConfigError,
         ("'FINISHED' is not a job status", "use one of PENDING")),
    Case("status_overrides empty key", lambda env: JobSensor(task_id="s", job_id="1", status_overrides={"": "FAILED"}),
         JobsConfigError, ("must be a non-empty raw state string", "as the API spells it")),
    Case("status_overrides not a dict", lambda env: JobSensor(task_id="s", job_id="1", status_overrides=["done"]),
         JobsConfigError, ("must be a dict of raw state",)),
    Case("job not a dict", run_operator("copy"), JobsConfigError, ("job must render to a dict", "e.g. {'kind'")),
    Case("unknown list filter", lambda env: JobsHook("jobs_default").list_jobs(colour="red"), JobsConfigError,
         ("cannot filter jobs by colour", "use ")),
    # -- server answers
    Case("404 for the job", tinybird_get("nope-404"), JobNotFoundError, ("has no job nope-404", "check the job id")),
    Case("unknown state", unknown_state, UnknownJobStateError, ("reports state 'exploded'", "status_overrides=")),
    Case("JSON without the state", odd_get("no-state"), JobsApiError,
         ("has no 'status' string", "check that the host")),
    Case("state of the wrong type", odd_get("wrong-type"), JobsApiError,
         ("has no 'status' string", "check that the host")),
    Case("JSON that is not an object", odd_get("not-an-object"), JobsApiError,
         ("not a JSON object", "really a tinybird API")),
    Case("HTML page with 200", odd_get("html"), JobsApiError, ("not a JSON object", "really a tinybird API")),
    Case("garbled JSON", odd_get("garbled"), JobsUnavailableError,
         ("failed 2 time(s)", "garbled JSON body", "check that the connection's host is the API's base URL")),
    Case("huge body (Content-Length)", odd_get("huge-length"), JobsApiError,
         ("larger than 10 MB", "Check that the host of connection 'odd'")),
    Case("huge body (chunked)", odd_get("huge-chunked"), JobsApiError, ("larger than 10 MB", "Check that the host")),
    Case("huge body (async)", odd_aget("huge-chunked"), JobsApiError, ("larger than 10 MB", "Check that the host")),
    Case("redirect to another host", odd_get("redirect"), JobsApiError,
         ("redirected", "redirects are not followed", "set the host of connection 'odd' to the final URL"),
         extra_checks=(nothing_reached_the_other_host,)),
    Case("rest answer without the state", odd_get("run-no-state", "rest"), JobsApiError, ("state", "check extra")),
    Case("rest unknown state", odd_get("run-unknown-state", "rest"), UnknownJobStateError,
         ("reports state 'EXPLODED'", "status_overrides=")),
]


@pytest.fixture(scope="module")
def odd_pair() -> Iterator[tuple[OddApi, OddApi]]:
    with odd_api() as other, odd_api(other_host=other.url) as odd:
        yield odd, other


def test_the_table_has_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)


VERSION_MARKS = {"extra not JSON": keeps_a_connection_whose_extra_is_not_json}


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=case.name, marks=VERSION_MARKS.get(case.name, ())) for case in CASES]
)
def test_bad_input(case: Case, live: Any, odd_pair: tuple[OddApi, OddApi], monkeypatch: pytest.MonkeyPatch) -> None:
    odd, other = odd_pair
    env = Env(live, odd, other, monkeypatch)
    live.reset()

    with pytest.raises(AirflowException) as caught:
        case.act(env)

    error = caught.value
    assert isinstance(error, case.error), f"{type(error).__name__}: {error}"
    assert type(error).__module__ == exceptions.__name__, "one of our errors, not a stray KeyError/TypeError"
    for words in case.says:
        assert words in str(error), f"{words!r} not in: {error}"
    assert TOKEN not in str(error)
    if case.path is not None:
        paths = [entry["path"] for entry in live.requests()]
        assert paths and set(paths) == {case.path}, f"the id reached {paths}"
    for check in case.extra_checks:
        check(env)


@only_airflow_3_0_and_3_1
def test_airflow_3_0_and_3_1_drop_a_connection_whose_extra_is_not_json(live: Any, monkeypatch: pytest.MonkeyPatch):
    """Their connection lookup discards it, so the task fails with Airflow's "isn't defined", not our message."""
    from airflow.exceptions import AirflowNotFoundException

    env = Env(live, None, None, monkeypatch)  # type: ignore[arg-type]
    with pytest.raises(AirflowNotFoundException, match="isn't defined"):
        with_conn("{api: tinybird")(env)
