"""Airbyte auth: the mode a connection picks, the token exchange, its cache and its renewal.

The exchange is plain data: a client-credentials call yields the token Request first, and the
tests answer it with canned Responses. A fake clock drives expiry.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from airflow_jobs_provider.apis.airbyte.api import AirbyteApi
from airflow_jobs_provider.apis.airbyte.auth import DEFAULT_TOKEN_LIFETIME, AirbyteAuth, TokenCache
from airflow_jobs_provider.apis.exchange import Exchange, Response
from airflow_jobs_provider.apis.job import JobStatus
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.exceptions import JobsApiError, JobsAuthError, JobsConfigError
from tests.support.scripted import Script

BASE = "https://api.airbyte.com/v1"
CLIENT_ID = "d4f9a3c2-client"
SECRET = "client-secret-77c1"
ACCESS = "eyJ-access-token-1"
ACCESS_2 = "eyJ-access-token-2"
CONNECTION = "e735894a-e773-4938-969f-45f53957b75b"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def settings(login: str | None = CLIENT_ID, token: str | None = SECRET, **extras: Any) -> ApiSettings:
    return ApiSettings("ab", "airbyte", BASE, token=token, login=login, extras={"api": "airbyte", **extras})


def token_answer(token: str = ACCESS, expires_in: Any = 900, token_type: str = "Bearer") -> Response:
    return Response(200, {"access_token": token, "token_type": token_type, "expires_in": expires_in})


def job(status: str = "running") -> Response:
    return Response(200, {"jobId": 7, "status": status, "jobType": "sync", "startTime": "2024-01-01T00:00:00Z",
                          "connectionId": CONNECTION})


def in_turn(*exchanges: Exchange[Any]) -> Exchange[list[Any]]:
    """Several operations on one adapter, one after the other, as one exchange."""
    results = []
    for exchange in exchanges:
        results.append((yield from exchange))
    return results


UNAUTHORIZED = Response(401, {"status": 401, "title": "invalid-api-key", "detail": "The access token has expired"})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(clock: Clock) -> AirbyteApi:
    return AirbyteApi(settings(), clock=clock)


# ---------------------------------------------------------------- picking the mode

@pytest.mark.parametrize(
    ("login", "password", "auth", "mode"),
    [
        (CLIENT_ID, SECRET, None, "client_credentials"),  # login + password: an application
        (None, SECRET, None, "bearer"),  # password alone: a token
        (None, None, None, "none"),  # nothing: a self-managed instance without auth
        ("airbyte", "password", "basic", "basic"),
        (CLIENT_ID, SECRET, "CLIENT_CREDENTIALS", "client_credentials"),
        ("ignored", SECRET, "bearer", "bearer"),
        (None, None, "none", "none"),
    ],
)
def test_the_mode_comes_from_extra_auth_or_from_what_the_connection_holds(login, password, auth, mode):
    extras = {} if auth is None else {"auth": auth}
    assert AirbyteAuth.from_settings(settings(login, password, **extras)).mode == mode


@pytest.mark.parametrize(
    ("login", "password", "auth", "says"),
    [
        (CLIENT_ID, None, None, "has a login but no password"),
        (None, SECRET, "client_credentials", "needs both client id (login) and client secret (password)"),
        ("airbyte", None, "basic", "needs both login and password"),
        (None, None, "bearer", "put the token in its password field"),
        (CLIENT_ID, SECRET, "oauth", "use one of client_credentials, bearer, basic, none"),
    ],
)
def test_incomplete_credentials_are_config_errors(login, password, auth, says):
    extras = {} if auth is None else {"auth": auth}
    with pytest.raises(JobsConfigError) as caught:
        AirbyteApi(settings(login, password, **extras))
    assert says in str(caught.value)
    assert SECRET not in str(caught.value)


def test_bearer_sends_the_password_as_is():
    script = Script(job())
    script.run(AirbyteApi(settings(None, SECRET)).get_job("7"))
    assert script.requests[0].headers == {"Authorization": f"Bearer {SECRET}"}


def test_basic_sends_login_and_password_and_masks_the_encoded_pair():
    api = AirbyteApi(settings("airbyte", "password", auth="basic"))
    masked: list[str] = []
    api.on_secret = masked.append
    script = Script(job(), job())
    script.run(in_turn(api.get_job("7"), api.get_job("7")))
    encoded = base64.b64encode(b"airbyte:password").decode()
    assert [request.headers for request in script.requests] == [{"Authorization": f"Basic {encoded}"}] * 2
    assert masked == [encoded], "masked once"


def test_none_sends_no_credentials():
    script = Script(job())
    script.run(AirbyteApi(settings(None, None)).get_job("7"))
    assert script.requests[0].headers == {}


# ---------------------------------------------------------------- the exchange

def test_the_first_call_exchanges_the_client_credentials_first(api):
    script = Script(token_answer(), job())
    result = script.run(api.get_job("7"))
    exchange, call = script.requests
    assert (exchange.method, exchange.url(BASE)) == ("POST", f"{BASE}/applications/token")
    assert exchange.json == {"client_id": CLIENT_ID, "client_secret": SECRET, "grant-type": "client_credentials"}
    assert "Authorization" not in exchange.headers, "the token endpoint needs no auth"
    assert call.headers == {"Authorization": f"Bearer {ACCESS}"}
    assert result.status is JobStatus.RUNNING


def test_the_token_path_can_be_moved_below_the_host():
    api = AirbyteApi(settings(token_path="/oauth/token"))
    script = Script(token_answer(), job())
    script.run(api.get_job("7"))
    assert script.requests[0].path == "/oauth/token"


@pytest.mark.parametrize("path", ["oauth/token", "https://evil.example/token", "/a/../token", "/a token", 5])
def test_a_token_path_must_stay_below_the_host(path):
    with pytest.raises(JobsConfigError, match="token_path"):
        AirbyteApi(settings(token_path=path))


def test_the_token_is_cached_across_operations(api):
    script = Script(token_answer(), job(), Response(200, {"data": []}), job("cancelled"))
    script.run(in_turn(api.get_job("7"), api.list_jobs({}), api.cancel_job("7")))
    assert [request.path for request in script.requests] == ["/applications/token", "/jobs/7", "/jobs", "/jobs/7"]


def test_the_token_is_renewed_shortly_before_it_expires(api, clock):
    script = Script(token_answer(ACCESS, 900), job())
    script.run(api.get_job("7"))
    clock.now += 900 - 60 - 1  # 60 s before expiry is the renewal point for a 15-minute token
    script = Script(job())
    script.run(api.get_job("7"))
    assert script.requests[0].headers["Authorization"] == f"Bearer {ACCESS}"
    clock.now += 2
    script = Script(token_answer(ACCESS_2), job())
    script.run(api.get_job("7"))
    assert script.requests[0].path == "/applications/token"
    assert script.requests[1].headers["Authorization"] == f"Bearer {ACCESS_2}"


def test_a_short_lived_token_is_renewed_ten_percent_early(api, clock):
    Script(token_answer(ACCESS, 1), job()).run(api.get_job("7"))
    clock.now += 0.85
    assert Script(job()).run(api.get_job("7")).status is JobStatus.RUNNING  # still the cached token
    clock.now += 0.1
    script = Script(token_answer(ACCESS_2, 1), job())
    script.run(api.get_job("7"))
    assert script.requests[0].path == "/applications/token"


@pytest.mark.parametrize("expires_in", [None, "soon", 0, -5, True, float("nan")])
def test_a_token_without_a_usable_lifetime_is_trusted_for_three_minutes(expires_in, clock):
    cache = TokenCache(clock)
    api = AirbyteApi(settings(), clock=clock)
    api.tokens = cache
    body = {"access_token": ACCESS, "token_type": "bearer"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    Script(Response(200, body), job()).run(api.get_job("7"))
    clock.now += DEFAULT_TOKEN_LIFETIME * 0.9 - 1
    assert cache.current() == ACCESS
    clock.now += 2
    assert cache.current() is None


def test_a_401_on_a_cached_token_renews_it_once_and_repeats_the_call(api):
    Script(token_answer(ACCESS), job()).run(api.get_job("7"))
    script = Script(UNAUTHORIZED, token_answer(ACCESS_2), job("succeeded"))
    result = script.run(api.get_job("7"))
    assert [request.path for request in script.requests] == ["/jobs/7", "/applications/token", "/jobs/7"]
    assert script.requests[2].headers["Authorization"] == f"Bearer {ACCESS_2}"
    assert result.status is JobStatus.SUCCEEDED


def test_a_start_refused_with_401_is_repeated_once_it_was_not_acted_on(api):
    Script(token_answer(ACCESS), job()).run(api.get_job("7"))
    started = Response(200, {"jobId": 8, "status": "pending", "jobType": "sync", "startTime": "x",
                             "connectionId": CONNECTION})
    script = Script(UNAUTHORIZED, token_answer(ACCESS_2), started)
    assert script.run(api.start_job({"connectionId": CONNECTION, "jobType": "sync"})).job_id == "8"
    assert script.requests[0].json == script.requests[2].json


def test_a_401_on_a_fresh_token_is_not_retried(api):
    script = Script(token_answer(ACCESS), UNAUTHORIZED)
    with pytest.raises(JobsAuthError) as caught:
        script.run(api.get_job("7"))
    assert "invalid-api-key: The access token has expired" in str(caught.value)
    assert "client id (login) and client secret (password)" in str(caught.value)


def test_only_one_renewal_per_call(api):
    Script(token_answer(ACCESS), job()).run(api.get_job("7"))
    script = Script(UNAUTHORIZED, token_answer(ACCESS_2), UNAUTHORIZED)
    with pytest.raises(JobsAuthError):
        script.run(api.get_job("7"))


@pytest.mark.parametrize("status", [400, 401, 403])
def test_refused_client_credentials_are_an_auth_error_without_the_secret(api, status):
    refusal = Response(status, {"title": "forbidden", "detail": f"bad client {CLIENT_ID} / {SECRET}"})
    with pytest.raises(JobsAuthError) as caught:
        Script(refusal).run(api.get_job("7"))
    text = str(caught.value)
    assert f"refused the client credentials at {BASE}/applications/token" in text
    assert "Settings > Applications" in text
    assert SECRET not in text and "***" in text


def test_a_missing_token_endpoint_says_what_the_host_must_be(api):
    with pytest.raises(JobsApiError) as caught:
        Script(Response(404, "Not Found")).run(api.get_job("7"))
    assert "no token endpoint" in str(caught.value)
    assert "https://api.airbyte.com/v1" in str(caught.value)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"token": ACCESS}, "answered without an access_token (fields: token)"),
        ("<html>login</html>", "answered without an access_token (<html>login</html>)"),
        ({"access_token": ACCESS, "token_type": "mac"}, "issued a 'mac' token, not a bearer token"),
    ],
)
def test_a_token_answer_in_another_shape_is_an_api_error_that_never_shows_a_token(api, body, says):
    with pytest.raises(JobsApiError) as caught:
        Script(Response(200, body)).run(api.get_job("7"))
    assert says in str(caught.value)
    assert ACCESS not in str(caught.value)


# ---------------------------------------------------------------- secrets stay secret

def test_each_new_access_token_is_handed_to_the_masker_once(api, clock):
    masked: list[str] = []
    api.on_secret = masked.append
    Script(token_answer(ACCESS, 1), job(), job()).run(in_turn(api.get_job("7"), api.get_job("7")))
    clock.now += 5
    Script(token_answer(ACCESS_2, 1), job()).run(api.get_job("7"))
    assert masked == [ACCESS, ACCESS_2]


def test_no_secret_in_any_repr(api):
    Script(token_answer(ACCESS), job()).run(api.get_job("7"))
    for thing in (api, api.auth, api.tokens, api.settings):
        assert SECRET not in repr(thing)
        assert ACCESS not in repr(thing)
    assert "cached=True" in repr(api.tokens)
