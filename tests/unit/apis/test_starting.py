"""The start plan (apis/starting.py) with plain data: which requests a lookup sends, how candidates
are checked, and what one, none or several of them lead to. No server, no sleeping."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_jobs_provider.apis.exchange import Request, Response
from airflow_jobs_provider.apis.keboola import KeboolaApi
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.starting import StartOptions, run_plan, start
from airflow_jobs_provider.apis.tinybird import TinybirdApi
from airflow_jobs_provider.exceptions import JobAlreadyRunningError, JobsConfigError, JobStartUncertainError
from tests.support.api_settings import tinybird_settings

NOW = 1_800_000_000.0
COPY = {"kind": "copy", "pipe": "daily"}
OPTIONS = StartOptions(settle_seconds=4.0, polls=3, clock_skew=30.0)
UNCERTAIN = JobStartUncertainError("POST https://api.tinybird.co/v0/pipes/daily/copy failed (timed out) after the "
                                   "server may have received it, so the job may have started")


class Wire:
    """Answers in order; an exception instance is raised by the transport (thrown into the plan)."""

    def __init__(self, *answers: Any):
        self.answers = list(answers)
        self.sent: list[Request] = []
        self.pauses: list[float] = []
        self.notes: list[str] = []

    def send(self, request: Request) -> Response:
        self.sent.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def run(self, api: Any, spec: dict[str, Any], **options: Any) -> Any:
        plan = start(api, spec, clock=lambda: NOW, options=OPTIONS, **options)
        result = run_plan(plan, self.send, self.pauses.append, self.notes.append)
        assert not self.answers, f"unused answers: {self.answers}"
        return result


def listed(*jobs: dict[str, Any]) -> Response:
    return Response(200, {"jobs": list(jobs)})


def copy_job(job_id: str, pipe: str = "daily", status: str = "waiting", created: str = "2027-01-15 08:00:00") -> dict:
    return {"id": job_id, "kind": "copy", "status": status, "pipe_name": pipe, "created_at": created}


STARTED = Response(200, {"id": "new", "job": {"id": "new", "status": "waiting"}})


def test_one_candidate_is_the_job_and_the_lookup_uses_the_apis_filters():
    wire = Wire(UNCERTAIN, listed(copy_job("j1")))

    outcome = wire.run(TinybirdApi(tinybird_settings()), COPY)

    assert (outcome.how, outcome.job.job_id, outcome.uncertain) == ("found", "j1", 1)
    post, lookup = wire.sent
    assert post.method == "POST" and lookup.path == "/v0/jobs"
    assert lookup.params == {"kind": "copy", "pipe_name": "daily", "created_after": "2027-01-15T07:59:30Z"}
    assert wire.pauses == [], "found at the first look"
    assert any("Found tinybird job j1" in note for note in wire.notes)


def test_jobs_the_filters_let_through_are_checked_again():
    """An answer is untrusted: another pipe's job, or one created before the window, is no candidate."""
    wire = Wire(UNCERTAIN, listed(copy_job("other", pipe="weekly"), copy_job("old", created="2027-01-15 07:00:00")),
                listed(), listed(), STARTED)

    outcome = wire.run(TinybirdApi(tinybird_settings()), COPY)

    assert (outcome.how, outcome.job.job_id) == ("resent", "new")


def test_none_after_the_settle_time_sends_the_start_again_once():
    wire = Wire(UNCERTAIN, listed(), listed(), listed(), STARTED)

    outcome = wire.run(TinybirdApi(tinybird_settings()), COPY)

    assert outcome.how == "resent"
    assert wire.pauses == [2.0, 2.0], "three looks spread over the settle time"
    assert [request.method for request in wire.sent] == ["POST", "GET", "GET", "GET", "POST"]


def test_a_second_uncertain_start_is_looked_for_and_never_sent_a_third_time():
    wire = Wire(UNCERTAIN, listed(), listed(), listed(), UNCERTAIN, listed(), listed(), listed())

    with pytest.raises(JobStartUncertainError, match="Not sent a third time"):
        wire.run(TinybirdApi(tinybird_settings()), COPY)

    assert [request.method for request in wire.sent].count("POST") == 2


def test_several_candidates_fail_listing_them():
    wire = Wire(UNCERTAIN, listed(copy_job("j1"), copy_job("j2", created="2027-01-15 08:00:01")))

    with pytest.raises(JobStartUncertainError) as caught:
        wire.run(TinybirdApi(tinybird_settings()), COPY)

    assert "2 tinybird jobs" in str(caught.value)
    assert str(caught.value).index("j2") < str(caught.value).index("j1"), "newest first"


def test_one_look_happens_at_the_end_of_the_settle_time():
    wire = Wire(UNCERTAIN, listed(), STARTED)
    plan = start(TinybirdApi(tinybird_settings()), COPY, clock=lambda: NOW,
                 options=StartOptions(settle_seconds=5.0, polls=1, clock_skew=0.0))

    run_plan(plan, wire.send, wire.pauses.append, wire.notes.append)

    assert wire.pauses == [5.0]


def keboola() -> KeboolaApi:
    settings = ApiSettings(conn_id="kbc", api="keboola", base_url="https://queue.keboola.com", token="t0ken-kbc")
    return KeboolaApi(settings)


def test_keboola_looks_by_component_configuration_branch_and_creation_time():
    job = {"id": "901", "status": "created", "component": "ex", "config": "42", "branchId": None,
           "createdTime": "2027-01-15T08:00:00+00:00", "isFinished": False}
    wire = Wire(UNCERTAIN, Response(200, [job]))

    outcome = wire.run(keboola(), {"component": "ex", "config": "42"})

    assert outcome.job.job_id == "901"
    params = wire.sent[1].params
    assert params["componentId[]"] == ["ex"] and params["configId[]"] == ["42"] and params["branchId[]"] == ["null"]
    assert params["createdTimeFrom"] == "2027-01-15T07:59:30Z"


def test_join_watches_the_running_job_and_sends_no_start():
    job = {"id": "901", "status": "processing", "component": "ex", "config": "42", "branchId": None,
           "createdTime": "2027-01-15T08:00:00+00:00", "isFinished": False}
    wire = Wire(Response(200, [job]))

    outcome = wire.run(keboola(), {"component": "ex", "config": "42"}, if_running="join")

    assert (outcome.how, outcome.job.job_id) == ("joined", "901")
    assert wire.sent[0].params["status[]"] == ["created", "waiting", "processing", "terminating"]


def test_fail_names_the_running_job():
    wire = Wire(listed(copy_job("busy", status="working")))

    with pytest.raises(JobAlreadyRunningError, match="busy"):
        wire.run(TinybirdApi(tinybird_settings()), COPY, if_running="fail")


def test_a_job_being_cancelled_is_not_joined():
    wire = Wire(listed(copy_job("going", status="cancelling")), STARTED)

    outcome = wire.run(TinybirdApi(tinybird_settings()), COPY, if_running="join")

    assert (outcome.how, outcome.job.job_id) == ("started", "new")


@pytest.mark.parametrize(
    ("extras", "problem"),
    [
        ({"uncertain_start_settle_seconds": -1}, "uncertain_start_settle_seconds"),
        ({"uncertain_start_polls": 0}, "uncertain_start_polls"),
        ({"uncertain_start_polls": True}, "uncertain_start_polls"),
        ({"clock_skew_seconds": "soon"}, "clock_skew_seconds"),
    ],
)
def test_lookup_extras_are_checked(extras, problem):
    with pytest.raises(JobsConfigError, match=problem):
        StartOptions.from_settings(tinybird_settings(extras=extras))


def test_if_running_is_checked():
    with pytest.raises(JobsConfigError, match="if_running must be one of"):
        Wire().run(TinybirdApi(tinybird_settings()), COPY, if_running="Join")
