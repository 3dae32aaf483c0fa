"""How an Airbyte connection authenticates, and the cache of its short-lived access tokens.

Four modes, chosen by the connection's extra ``auth`` (or guessed from login/password):

- ``client_credentials``: login = an application's client id, password = its client secret. They
  are exchanged at ``POST {host}/applications/token`` for an access token that lives a few
  minutes; it is cached and renewed before it expires. Airbyte Cloud and Enterprise.
- ``bearer``: password = a token sent as is (``Authorization: Bearer …``).
- ``basic``: login + password as HTTP basic auth, for self-managed instances behind basic auth.
- ``none``: no credentials at all, for a self-managed instance without auth.

Nothing here does I/O: the token exchange is one more Request the adapter yields. In a
triggerer, the hook hands the adapter one TokenCache per set of credentials on its event loop
(hooks/loop_shared.py), so thousands of triggers share one token.
"""

from __future__ import annotations

import base64
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_jobs_provider.apis.exchange import Request, Response
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.values import error_text
from airflow_jobs_provider.exceptions import JobsApiError, JobsConfigError

AUTH_MODES = ("client_credentials", "bearer", "basic", "none")
DEFAULT_TOKEN_PATH = "/applications/token"
DEFAULT_TOKEN_LIFETIME = 180.0
"""Seconds an access token is trusted when the token answer carries no ``expires_in``."""
MAX_RENEW_MARGIN = 60.0
RENEW_FRACTION = 0.1
"""A token is renewed 10% of its lifetime (at most 60 s) before it expires."""
TOKEN_PATH = re.compile(r"/[A-Za-z0-9._~/-]*")


@dataclass(frozen=True)
class AirbyteAuth:
    """The checked auth settings of one connection; the secret never shows in repr."""

    conn_id: str
    mode: str
    login: str | None = None
    secret: str | None = field(default=None, repr=False)
    token_path: str = DEFAULT_TOKEN_PATH

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> AirbyteAuth:
        conn_id, login, secret = settings.conn_id, settings.login, settings.token
        mode = _mode(settings.extras.get("auth"), login, secret, conn_id)
        if mode in ("client_credentials", "basic") and not (login and secret):
            who = "login and password" if mode == "basic" else "client id (login) and client secret (password)"
            raise JobsConfigError(f"connection {conn_id!r} uses auth {mode!r}, which needs both {who}")
        if mode == "bearer" and not secret:
            raise JobsConfigError(f"connection {conn_id!r} uses auth 'bearer': put the token in its password field")
        return cls(conn_id, mode, login, secret, _token_path(settings.extras.get("token_path"), conn_id))

    def static_headers(self) -> dict[str, str]:
        """Headers of the modes that need no exchange; client_credentials adds its own per call."""
        if self.mode == "bearer":
            return {"Authorization": f"Bearer {self.secret}"}
        if self.mode == "basic":
            return {"Authorization": f"Basic {self.basic_credentials()}"}
        return {}

    def basic_credentials(self) -> str:
        return base64.b64encode(f"{self.login}:{self.secret}".encode()).decode("ascii")

    def token_request(self) -> Request:
        """The exchange of client credentials for an access token (body per Airbyte's OpenAPI)."""
        body = {"client_id": self.login, "client_secret": self.secret, "grant-type": "client_credentials"}
        return Request("POST", self.token_path, json=body)

    def advice(self) -> str:
        """What to check when the API refuses the credentials, in this mode's terms."""
        where = f"connection {self.conn_id!r}"
        return {
            "client_credentials": (
                f"check the client id (login) and client secret (password) of {where}: they come from an "
                "application in Airbyte's Settings > Applications, and the user behind it needs access "
                "to the workspace"
            ),
            "bearer": f"the token in the password of {where} is wrong or expired; for tokens that renew "
            'themselves use an application\'s client id/secret with extra {"auth": "client_credentials"}',
            "basic": f"check the login and password of {where}",
            "none": f"{where} sends no credentials (no login, no password): this server needs some; see the "
            "README's Airbyte section",
        }[self.mode]


def parse_token(response: Response, token_url: str) -> tuple[str, float]:
    """Access token and lifetime (seconds) from a 2xx token answer; raise when it is not one."""
    body = response.body if isinstance(response.body, Mapping) else {}
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        # Name the fields, never their values: a malformed answer may still carry a token.
        shape = f"fields: {', '.join(sorted(map(str, body)))}" if body else error_text(response.body)[:120]
        raise JobsApiError(
            f"airbyte's token endpoint {token_url} answered without an access_token ({shape}): is the host the "
            "Airbyte API's base URL (https://api.airbyte.com/v1, or .../api/public/v1 when self-managed)?",
            status_code=response.status,
        )
    token_type = body.get("token_type")
    if token_type is not None and str(token_type).lower() != "bearer":
        raise JobsApiError(f"airbyte's token endpoint {token_url} issued a {token_type!r} token, not a bearer token")
    return token, _lifetime(body.get("expires_in"))


class TokenCache:
    """One access token and when to renew it; the token never shows in repr."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0

    def current(self) -> str | None:
        """The cached token while it is not due for renewal, else None."""
        if self._token is not None and self._clock() < self._renew_at:
            return self._token
        return None

    def keep(self, token: str, lifetime: float) -> None:
        self._token = token
        self._renew_at = self._clock() + lifetime - min(MAX_RENEW_MARGIN, RENEW_FRACTION * lifetime)

    def forget(self) -> None:
        self._token = None

    def __repr__(self) -> str:
        left = self._renew_at - self._clock()
        return f"TokenCache(cached={self._token is not None}, renews_in={left:.0f}s)"


def _mode(value: Any, login: str | None, secret: str | None, conn_id: str) -> str:
    if value is None or value == "":
        if login and secret:
            return "client_credentials"
        if login:
            raise JobsConfigError(
                f"connection {conn_id!r} has a login but no password: for client credentials put the client "
                'secret in the password; for a bearer token leave the login empty; or set extra "auth"'
            )
        return "bearer" if secret else "none"
    mode = str(value).strip().lower()
    if mode not in AUTH_MODES:
        raise JobsConfigError(
            f"connection {conn_id!r}: extra 'auth' is {value!r}; use one of {', '.join(AUTH_MODES)}"
        )
    return mode


def _token_path(value: Any, conn_id: str) -> str:
    if value is None or value == "":
        return DEFAULT_TOKEN_PATH
    if not isinstance(value, str) or not TOKEN_PATH.fullmatch(value) or ".." in value:
        raise JobsConfigError(
            f"connection {conn_id!r}: extra 'token_path' must be a path below the host such as "
            f"{DEFAULT_TOKEN_PATH!r}, got {value!r}"
        )
    return value


def _lifetime(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        return DEFAULT_TOKEN_LIFETIME
    return float(value)
