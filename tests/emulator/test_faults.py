"""Fault injection: each kind fails the way a real network or API does, at the right moment, reproducibly.

Real HTTP with requests against the emulator; the access log and the job list show what the
emulator did, so every test can tell "the API acted on the request" from "it never saw it".
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from airflow_jobs_provider.emulator import EmulatorControlError, EmulatorServer
from airflow_jobs_provider.emulator.core.faults import FaultRule, draw
from tests.support.emulator_http import Tinybird
from tests.support.polling import poll_until
from tests.support.raw_faktory import connect, job

PASSWORD = "test-token"


def faults_seen(emulator: EmulatorServer) -> list[Any]:
    return [entry["fault"] for entry in emulator.requests()]


def copy(tinybird: Tinybird, timeout: float = 5.0) -> requests.Response:
    return tinybird.session.post(
        f"{tinybird.url}/v0/pipes/p/copy", params={"token": tinybird.token}, timeout=timeout
    )


def test_a_seed_makes_the_faults_reproducible(emulator: EmulatorServer, tinybird: Tinybird) -> None:
    rates = {"5xx": 0.3, "429": 0.2, "garbage": 0.2}

    def one_run(seed: int) -> list[Any]:
        emulator.reset()
        emulator.faults("tinybird", rates, seed=seed)
        for _ in range(30):
            tinybird.get("/v0/jobs")
        return faults_seen(emulator)

    first = one_run(7)
    assert first == one_run(7)
    assert first != one_run(8)
    assert {kind for kind in first if kind} == set(rates), "every kind shows up in 30 draws at these rates"


def test_draws_follow_the_rates() -> None:
    rule = FaultRule("tinybird", None, {"5xx": 0.2, "429": 0.05, "reset": 0.05}, seed=1)
    kinds = [fault.kind if (fault := draw(rule, "GET", f"/v0/jobs/{n % 50}", n // 50)) else None for n in range(20_000)]
    for kind, rate in rule.rates.items():
        assert abs(kinds.count(kind) / len(kinds) - rate) < 0.01, kind


def test_429_refuses_before_the_api_acts_and_says_when_to_come_back(
    emulator: EmulatorServer, tinybird: Tinybird
) -> None:
    emulator.faults("tinybird", {"429": 1.0}, route="copy", retry_after=2.5)

    answer = copy(tinybird)

    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "2.5"
    assert emulator.jobs() == [], "a rate-limited start created no job"


def test_5xx_answers_after_the_api_acted_except_503(emulator: EmulatorServer, tinybird: Tinybird) -> None:
    emulator.faults("tinybird", {"5xx": 1.0}, route="copy", retry_after=1)

    statuses = [copy(tinybird).status_code for _ in range(24)]

    assert set(statuses) == {500, 502, 503, 504}
    created = len(emulator.jobs("tinybird"))
    assert created == sum(1 for status in statuses if status != 503), "500/502/504 come after the job exists"
    assert [(entry["fault"], entry["status"]) for entry in emulator.requests()] == [("5xx", s) for s in statuses]


def test_html_error_pages_look_like_a_proxy(emulator: EmulatorServer, tinybird: Tinybird) -> None:
    emulator.faults("tinybird", {"html": 1.0})

    answer = tinybird.get("/v0/jobs")

    assert answer.status_code in (500, 502, 503, 504)
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "<html>" in answer.text


def test_resets_happen_before_or_after_the_api_acted(emulator: EmulatorServer, tinybird: Tinybird) -> None:
    emulator.faults("tinybird", {"reset": 1.0}, route="copy", seed=3)

    for _ in range(20):
        with pytest.raises(requests.ConnectionError):
            copy(tinybird)

    created = len(emulator.jobs("tinybird"))
    assert 0 < created < 20, "the client cannot tell which: sometimes the job exists"
    assert {(entry["fault"], entry["status"]) for entry in emulator.requests()} == {("reset", 0)}


def test_a_stall_outlasts_the_client_timeout_after_the_job_exists(
    emulator: EmulatorServer, tinybird: Tinybird
) -> None:
    emulator.faults("tinybird", {"stall": 1.0}, route="copy", stall_seconds=1.0)

    with pytest.raises(requests.ReadTimeout):
        copy(tinybird, timeout=0.2)

    (created,) = emulator.jobs("tinybird")
    assert created["kind"] == "copy"
    (entry,) = poll_until(emulator.requests, bool, what="the stalled request to end")  # logged when it ends
    assert (entry["fault"], entry["status"]) == ("stall", 0)


def test_garbage_keeps_the_status_and_breaks_the_json(emulator: EmulatorServer, tinybird: Tinybird) -> None:
    emulator.faults("tinybird", {"garbage": 1.0})

    answer = tinybird.get("/v0/jobs")

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        answer.json()


def test_truncated_answers_break_off_mid_body(emulator: EmulatorServer, tinybird: Tinybird) -> None:
    emulator.faults("tinybird", {"truncated": 1.0})

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        tinybird.get("/v0/jobs")


def test_slow_answers_arrive_late_but_whole(emulator: EmulatorServer, tinybird: Tinybird) -> None:
    emulator.faults("tinybird", {"slow": 1.0}, slow_seconds=0.3)

    began = time.monotonic()
    answer = tinybird.get("/v0/jobs")

    assert time.monotonic() - began >= 0.3
    assert answer.status_code == 200 and "jobs" in answer.json()


def test_a_route_rule_touches_only_its_route_and_beats_the_api_wide_one(
    emulator: EmulatorServer, tinybird: Tinybird
) -> None:
    emulator.faults("tinybird", {"429": 1.0})
    emulator.faults("tinybird", {"5xx": 1.0}, route="copy")
    emulator.faults("acme", {"garbage": 1.0}, route="/acme/v2/runs/")

    assert copy(tinybird).status_code in (500, 502, 503, 504)
    assert tinybird.get("/v0/jobs").status_code == 429
    assert tinybird.session.get(f"{emulator.url}/acme/v2/runs", timeout=5).status_code == 401, "prefix not matched"
    assert tinybird.session.get(f"{emulator.url}/keboola-nowhere", timeout=5).status_code == 404


def test_counts_and_reset(emulator: EmulatorServer, tinybird: Tinybird) -> None:
    emulator.faults("tinybird", {"429": 1.0})
    for _ in range(3):
        tinybird.get("/v0/jobs")

    assert emulator.fault_stats()["injected"] == {"tinybird": {"429": 3}}
    emulator.reset()
    assert emulator.fault_stats() == {"rules": [], "injected": {}}
    assert tinybird.get("/v0/jobs").status_code == 200


def test_all_rates_zero_removes_the_rule(emulator: EmulatorServer, tinybird: Tinybird) -> None:
    emulator.faults("tinybird", {"429": 1.0})
    emulator.faults("tinybird", {"429": 0})

    assert emulator.fault_stats()["rules"] == []
    assert tinybird.get("/v0/jobs").status_code == 200


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ({"api": "nope", "rates": {}}, "field 'api' must be one of"),
        ({"api": "tinybird", "rates": {"boom": 0.1}}, "unknown fault kind(s) boom"),
        ({"api": "tinybird", "rates": {"5xx": 0.7, "429": 0.5}}, "add up to 1.2"),
        ({"api": "tinybird", "rates": {"5xx": -0.1}}, "between 0 and 1"),
        ({"api": "tinybird", "rates": {"5xx": 0.1}, "stall_seconds": -1}, "'stall_seconds' must be"),
        ({"api": "tinybird", "rates": {"5xx": 0.1}, "seed": "x"}, "'seed' must be an integer"),
        ({"api": "tinybird", "rates": {"5xx": 0.1}, "extra": 1}, "unknown field(s) extra"),
        ({"api": "faktory", "rates": {"5xx": 0.1}}, "Faktory speaks TCP"),
    ],
)
def test_bad_rules_are_refused_with_the_reason(emulator: EmulatorServer, rule: dict[str, Any], says: str) -> None:
    with pytest.raises(EmulatorControlError, match=f"400: .*{says.replace('(', '.').replace(')', '.')}"):
        emulator._call("POST", "/_emulator/faults", rule)


def test_faktory_resets_and_garbage_end_the_connection(emulator: EmulatorServer) -> None:
    emulator.faults("faktory", {"garbage": 1.0}, route="TRACK GET")
    client = connect(emulator.faktory_url, PASSWORD)
    pushed = client.call("PUSH", job("garbage-track-1"))
    assert pushed is not None and pushed.is_ok, "PUSH is not covered by the TRACK GET rule"
    with pytest.raises(ValueError):  # ProtocolError: not RESP
        client.call("TRACK GET garbage-track-1")
    client.close()

    emulator.faults("faktory", {"reset": 1.0}, route="PUSH", seed=1)
    outcomes = []
    for n in range(12):
        client = connect(emulator.faktory_url, PASSWORD)
        try:
            outcomes.append(client.call("PUSH", job(f"reset-push-{n:04d}")))
        except ConnectionResetError:
            outcomes.append(None)
        client.close()
    assert outcomes == [None] * 12, "every PUSH lost its answer"
    landed = {entry["id"] for entry in emulator.jobs("faktory")} - {"garbage-track-1"}
    assert 0 < len(landed) < 12, "some resets came after the job was pushed, some before"
    assert emulator.fault_stats()["injected"]["faktory"] == {"garbage": 1, "reset": 12}
