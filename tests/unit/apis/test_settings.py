"""Reading a ``jobs`` connection: the base URL, the token, the extras; checked once, no secrets in repr."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_jobs_provider.apis.registry import API_CLASSES, build_api
from airflow_jobs_provider.apis.rest import RestApi
from airflow_jobs_provider.apis.settings import DEFAULT_HTTP_TIMEOUT, ApiSettings
from airflow_jobs_provider.apis.tinybird import TinybirdApi
from airflow_jobs_provider.exceptions import JobsConfigError
from tests.support.api_settings import ACME_EXTRAS, TOKEN


def connection(**fields: Any) -> SimpleNamespace:
    """A stand-in for an Airflow Connection with the fields ApiSettings reads."""
    values: dict[str, Any] = {
        "conn_id": "jobs_tb",
        "host": "https://api.tinybird.co",
        "password": TOKEN,
        "login": None,
        "schema": None,
        "port": None,
        "extra": json.dumps({"api": "tinybird"}),
    }
    return SimpleNamespace(**{**values, **fields})


def test_a_typical_tinybird_connection():
    settings = ApiSettings.from_connection(connection())
    assert settings.conn_id == "jobs_tb"
    assert settings.api == "tinybird"
    assert settings.base_url == "https://api.tinybird.co"
    assert settings.token == TOKEN
    assert settings.timeout == DEFAULT_HTTP_TIMEOUT
    assert settings.verify is True


@pytest.mark.parametrize(
    ("fields", "base_url"),
    [
        ({"host": "https://api.us-east.tinybird.co"}, "https://api.us-east.tinybird.co"),
        ({"host": "http://localhost:8080"}, "http://localhost:8080"),
        ({"host": "  https://api.tinybird.co  "}, "https://api.tinybird.co"),
        ({"host": "https://api.tinybird.co/"}, "https://api.tinybird.co"),
        ({"host": "https://gw.example/jobs/api///"}, "https://gw.example/jobs/api"),
        ({"host": "api.tinybird.co", "schema": "https"}, "https://api.tinybird.co"),
        ({"host": "localhost", "schema": "http", "port": 8001}, "http://localhost:8001"),
        ({"host": "https://gw.example/base/", "port": 8443}, "https://gw.example:8443/base"),
        ({"host": "http://localhost:9000", "port": 8001}, "http://localhost:9000"),  # the URL's own port wins
        ({"host": "http://[::1]", "port": 8001}, "http://[::1]:8001"),
    ],
)
def test_base_url(fields, base_url):
    assert ApiSettings.from_connection(connection(**fields)).base_url == base_url


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"host": None}, "has no host: set it to the API's base URL"),
        ({"host": "   "}, "has no host"),
        ({"host": "api.tinybird.co"}, "has no scheme; write it as https://api.tinybird.co"),
        ({"host": "api.tinybird.co", "schema": "ftp"}, "has no scheme"),
        ({"host": "ftp://files.example"}, "is not an http\\(s\\) URL"),
        ({"host": "https://"}, "is not an http\\(s\\) URL"),
        ({"host": "https://api.tinybird.co:http"}, "jobs_tb"),
        ({"host": "https://api.tinybird.co:99999"}, "jobs_tb"),
    ],
)
def test_bad_hosts_are_config_errors_naming_the_connection(fields, says):
    with pytest.raises(JobsConfigError, match=says) as caught:
        ApiSettings.from_connection(connection(**fields))
    assert "'jobs_tb'" in str(caught.value)


@pytest.mark.parametrize(
    "extra",
    [
        json.dumps({"api": "tinybird", "timeout": 12}),
        {"api": "tinybird", "timeout": 12},
        json.dumps({"extra__jobs__api": "tinybird", "extra__jobs__timeout": "12"}),
        {"api": " TinyBird ", "timeout": "12"},
    ],
    ids=["json string", "dict", "form-field prefix", "api in any case"],
)
def test_extra_shapes(extra):
    settings = ApiSettings.from_connection(connection(extra=extra))
    assert settings.api == "tinybird"
    assert settings.timeout == 12.0
    assert not any(key.startswith("extra__") for key in settings.extras)


def test_a_plain_key_wins_over_its_form_field_and_empty_form_fields_are_dropped():
    extra = {"api": "rest", "extra__jobs__api": "tinybird", "extra__jobs__verify": ""}
    settings = ApiSettings.from_connection(connection(extra=extra))
    assert settings.api == "rest"
    assert "verify" not in settings.extras
    assert extra == {"api": "rest", "extra__jobs__api": "tinybird", "extra__jobs__verify": ""}  # not mutated


def test_a_rest_connection_keeps_its_extras_for_the_adapter():
    settings = ApiSettings.from_connection(connection(host="https://acme.example", extra=json.dumps(ACME_EXTRAS)))
    assert settings.extras == ACME_EXTRAS
    assert isinstance(build_api(settings), RestApi)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ("{not json", "extra is not valid JSON"),
        ("[1, 2]", "extra must be a JSON object"),
        ('"tinybird"', "extra must be a JSON object"),
        (None, 'set extra {"api": "tinybird"}'),
        ("", 'set extra {"api": "tinybird"}'),
        ("{}", 'set extra {"api": "tinybird"}'),
        ({"api": "  "}, 'set extra {"api": "tinybird"}'),
        ({"extra__jobs__api": ""}, 'set extra {"api": "tinybird"}'),
    ],
)
def test_bad_or_missing_extras_are_config_errors(extra, says):
    with pytest.raises(JobsConfigError, match=says):
        ApiSettings.from_connection(connection(extra=extra))


@pytest.mark.parametrize(
    ("verify", "expected"),
    [(True, True), (False, False), ("true", True), ("False", False), ("/etc/ssl/ca.pem", "/etc/ssl/ca.pem")],
)
def test_verify(verify, expected):
    settings = ApiSettings.from_connection(connection(extra={"api": "tinybird", "verify": verify}))
    assert settings.verify == expected
    assert type(settings.verify) is type(expected)


@pytest.mark.parametrize("verify", ["", None, 0, 1, ["ca.pem"]])
def test_bad_verify_is_a_config_error(verify):
    with pytest.raises(JobsConfigError, match="extra 'verify' must be true, false or a CA bundle path"):
        ApiSettings.from_connection(connection(extra={"api": "tinybird", "verify": verify}))


@pytest.mark.parametrize("timeout", ["soon", 0, -5, None, [30]])
def test_bad_timeout_is_a_config_error(timeout):
    with pytest.raises(JobsConfigError, match="extra 'timeout' must be a positive number of seconds"):
        ApiSettings.from_connection(connection(extra={"api": "tinybird", "timeout": timeout}))


def test_missing_conn_id_falls_back_to_the_default():
    assert ApiSettings.from_connection(connection(conn_id=None)).conn_id == "jobs_default"


@pytest.mark.parametrize(("password", "token"), [("", None), (None, None), ("t0k", "t0k")])
def test_an_empty_password_means_no_token(password, token):
    assert ApiSettings.from_connection(connection(password=password)).token == token


def test_the_token_never_appears_in_repr_or_str():
    settings = ApiSettings.from_connection(connection(login="svc-user"))
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert "svc-user" in repr(settings)  # the rest is still there to debug with


# ---------------------------------------------------------------- build_api


@pytest.mark.parametrize(("api", "cls"), [("tinybird", TinybirdApi), ("rest", RestApi)])
def test_build_api_picks_the_adapter(api, cls):
    extras = ACME_EXTRAS if api == "rest" else {"api": api}
    settings = ApiSettings("c", api, "https://h", extras=extras)
    assert type(build_api(settings)) is cls


def test_build_api_passes_status_overrides_on():
    api = build_api(ApiSettings("c", "tinybird", "https://h"), {"queued": "PENDING"})
    assert api.state_map.table["queued"] == "PENDING"


@pytest.mark.parametrize("name", ["dbt", "Tinybird ", ""])
def test_an_unknown_api_lists_the_known_ones(name):
    with pytest.raises(JobsConfigError) as caught:
        build_api(ApiSettings("jobs_x", name, "https://h"))
    text = str(caught.value)
    assert "'jobs_x'" in text
    assert repr(name) in text
    assert f"use one of {', '.join(sorted(API_CLASSES))}" in text
    assert {"rest", "tinybird"} <= set(API_CLASSES)
