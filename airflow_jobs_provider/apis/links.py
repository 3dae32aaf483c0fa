"""A job's two URLs: its page in the vendor's web UI (the "Job" button) and its API resource.

Every URL that comes out of an API answer ends up in Airflow users' browsers, so it is
untrusted input: ``checked_url`` lets through only plain http(s) URLs with a host, without
credentials, control characters or secret-looking query parameters, and, where the vendor's
host is known, only on that host. A URL that fails is dropped with the reason (the task logs
a warning and shows no button): no link is better than a broken or a dangerous one.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MAX_URL_LENGTH = 2048
SAFE_SCHEMES = frozenset({"http", "https"})
SECRET_PARAMS = frozenset(
    {
        "token", "access_token", "api_key", "apikey", "key", "password", "secret", "client_secret",
        "signature", "sig", "x-amz-signature", "x-goog-signature", "auth", "authorization", "code",
    }
)  # fmt: skip
"""Query parameter names (lower case) that carry credentials; a link never shows one."""
UI_URL_EXTRA = "ui_url"
"""Connection extra: the base URL of the vendor's web UI, where it cannot be derived from the API host."""


class UnsafeUrlError(ValueError):
    """A URL that must not become a link; the message says why."""


@dataclass(frozen=True)
class JobLinks:
    """``page``: the job's page in the vendor's UI, or None when none can be derived honestly.
    ``api``: the job's API resource. ``problems``: why URLs from the API answer were refused."""

    page: str | None = None
    api: str | None = None
    problems: tuple[str, ...] = ()


def checked_url(url: Any, what: str, hosts: Collection[str] | None = None) -> str:
    """``url`` when it is safe to show as a link; raise UnsafeUrlError otherwise.

    :param what: names the URL in the error, e.g. "tinybird's job_url".
    :param hosts: the only host names allowed (lower case); None when the vendor's host is not known.
    """
    if not isinstance(url, str) or not url:
        raise UnsafeUrlError(f"{what} is not a URL string ({type(url).__name__})")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrlError(f"{what} is {len(url)} characters long (limit {MAX_URL_LENGTH})")
    if any(ord(ch) <= 32 or ord(ch) == 127 or ch == "\\" for ch in url):
        raise UnsafeUrlError(f"{what} holds spaces, backslashes or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a bad port
    except ValueError as error:
        raise UnsafeUrlError(f"{what} is not a valid URL ({error})") from None
    del port
    if parts.scheme.lower() not in SAFE_SCHEMES:
        raise UnsafeUrlError(f"{what} has scheme {parts.scheme or '(none)'!r}; only http and https become links")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise UnsafeUrlError(f"{what} carries credentials (user:password@host)")
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeUrlError(f"{what} names no host")
    if hosts is not None and host not in {name.lower() for name in hosts}:
        raise UnsafeUrlError(f"{what} points at host {host!r}, not the API's own ({', '.join(sorted(hosts))})")
    secret = sorted(_secret_names(parts.query))
    if secret:
        raise UnsafeUrlError(f"{what} carries query parameter(s) {', '.join(secret)}, which may hold a secret")
    return url


def _secret_names(query: str) -> set[str]:
    return {name for name, _ in parse_qsl(query, keep_blank_values=True) if name.lower() in SECRET_PARAMS}


def host_of(url: str) -> str:
    """The lower-case host name of ``url`` ('' when it has none)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def checked_or_none(url: Any, what: str, hosts: Collection[str] | None, problems: list[str]) -> str | None:
    """``checked_url`` that records the reason in ``problems`` and returns None instead of raising."""
    if url in (None, ""):
        return None
    try:
        return checked_url(url, what, hosts)
    except UnsafeUrlError as error:
        problems.append(str(error))
        return None


def strip_secrets(url: str) -> str | None:
    """``url`` without user info, query and fragment, for naming a dataset: never a token, never a
    signed query. None when it is not a URL with a scheme and a host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not host or any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    authority = host.lower() + (f":{port}" if port else "")
    return f"{parts.scheme.lower()}://{authority}{parts.path}"
