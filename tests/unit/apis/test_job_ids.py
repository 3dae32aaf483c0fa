"""Job ids come from templates and API answers: they are checked, then sent as ONE path segment.

Whatever a job id contains, it can never reach another endpoint (``/``, ``..``), add a query
(``?``) or a fragment (``#``), or be decoded twice (``%2F``).
"""

from __future__ import annotations

import pytest

from airflow_jobs_provider.apis.exchange import Request
from airflow_jobs_provider.apis.values import MAX_JOB_ID_LENGTH, quote_job_id
from airflow_jobs_provider.exceptions import InvalidJobIdError, JobsConfigError
from tests.support.api_settings import ACME_URL, TINYBIRD_URL


@pytest.mark.parametrize(
    ("job_id", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("\t\n", "empty"),
        (" abc", "surrounding whitespace"),
        ("abc\n", "surrounding whitespace"),
        (None, "must be a string"),
        (42, "must be a string, got int"),
        (b"abc", "must be a string, got bytes"),
        ("a" * 10_240, f"limit {MAX_JOB_ID_LENGTH}"),
        ("ab\x00cd", "control characters"),
        ("ab\rcd", "control characters"),
        ("ab\x1bcd", "control characters"),
        ("ab\x7fcd", "control characters"),
        (".", "path step"),
        ("..", "path step"),
        ("...", "path step"),  # any all-dots id is refused, to be safe with every URL parser
    ],
)
def test_unusable_job_ids_are_refused_with_the_reason(job_id, says):
    with pytest.raises(InvalidJobIdError, match=says):
        quote_job_id(job_id)


def test_an_invalid_id_is_a_config_error_that_shows_how_to_pass_one():
    with pytest.raises(JobsConfigError, match=r"xcom_pull"):
        quote_job_id(None)


def test_the_longest_allowed_id_passes():
    assert quote_job_id("a" * MAX_JOB_ID_LENGTH) == "a" * MAX_JOB_ID_LENGTH


# (job id, its single encoded path segment)
ENCODED = [
    ("d5b869ed-3a74-45f9-af54-57350aae4cef", "d5b869ed-3a74-45f9-af54-57350aae4cef"),
    ("a/b", "a%2Fb"),
    ("a?b=c", "a%3Fb%3Dc"),
    ("a#frag", "a%23frag"),
    ("%2F", "%252F"),
    ("../x", "..%2Fx"),
    ("./..", ".%2F.."),
    ("jöb-ü", "j%C3%B6b-%C3%BC"),
    ("a b", "a%20b"),
    ("a;b&c", "a%3Bb%26c"),
]


@pytest.mark.parametrize(("job_id", "segment"), ENCODED)
def test_ids_are_percent_encoded_into_one_segment(job_id, segment):
    assert quote_job_id(job_id) == segment


@pytest.mark.parametrize(("job_id", "segment"), ENCODED)
def test_tinybird_get_and_cancel_paths_keep_the_id_in_one_segment(tinybird, job_id, segment):
    get = tinybird.get_request(job_id)
    cancel = tinybird.cancel_request(job_id)

    assert get.path == f"/v0/jobs/{segment}"
    assert cancel.path == f"/v0/jobs/{segment}/cancel"
    for request, slashes in ((get, 3), (cancel, 4)):
        assert request.path.startswith("/v0/jobs/")
        assert request.path.count("/") == slashes
        assert "?" not in request.path
        assert "#" not in request.path
    # url() sends the path as is: no re-quoting, no decoding, no dot-segment folding
    assert get.url(TINYBIRD_URL) == f"{TINYBIRD_URL}/v0/jobs/{segment}"
    assert cancel.url(TINYBIRD_URL) == f"{TINYBIRD_URL}/v0/jobs/{segment}/cancel"


@pytest.mark.parametrize(("job_id", "segment"), ENCODED)
def test_rest_paths_keep_the_id_in_one_segment(acme, job_id, segment):
    assert acme.get_request(job_id).url(ACME_URL) == f"{ACME_URL}/acme/v2/runs/{segment}"
    assert acme.cancel_request(job_id).url(ACME_URL) == f"{ACME_URL}/acme/v2/runs/{segment}/abort"


@pytest.mark.parametrize("job_id", ["", " x", "..", None, "a\x00b"])
def test_adapters_refuse_bad_ids_before_building_a_request(tinybird, acme, job_id):
    for build in (tinybird.get_request, tinybird.cancel_request, acme.get_request, acme.cancel_request):
        with pytest.raises(JobsConfigError):
            build(job_id)


def test_url_encodes_query_values_but_leaves_the_path_alone():
    request = Request("GET", "/v0/jobs/a%2Fb", params={"q": "x y/z?&#", "kind": ["copy", "sink"]})
    assert request.url("https://h") == "https://h/v0/jobs/a%2Fb?q=x%20y%2Fz%3F%26%23&kind=copy&kind=sink"


def test_url_without_params_has_no_question_mark():
    assert Request("GET", "/v0/jobs", params={}).url("https://h") == "https://h/v0/jobs"
