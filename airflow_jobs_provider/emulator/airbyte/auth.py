"""Who may call the emulated Airbyte API, and the short-lived access tokens it issues.

Three ways in, all derived from the emulator's one token:

- ``Authorization: Bearer <token>``: the token itself, as a static API key that never expires;
- ``Authorization: Basic airbyte:<token>``: HTTP basic auth of a self-managed instance;
- client credentials: client id ``emulator-client`` and client secret ``<token>`` exchanged at
  ``POST /v1/applications/token`` for an access token that expires after ``lifetime`` seconds.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import secrets
import threading
from typing import Any

CLIENT_ID = "emulator-client"
BASIC_USER = "airbyte"
DEFAULT_LIFETIME = 900.0
"""Seconds an access token lives, as on Airbyte Cloud (15 minutes)."""


class TokenBook:
    """Issued access tokens and their expiry; the lifetime can be changed for tests."""

    def __init__(self, lifetime: float = DEFAULT_LIFETIME) -> None:
        self._lock = threading.Lock()
        self.lifetime = lifetime
        self.issued = 0
        self._expiry: dict[str, float] = {}

    def issue(self, now: float) -> tuple[str, float]:
        with self._lock:
            token = f"abt_{secrets.token_urlsafe(24)}"
            self._expiry[token] = now + self.lifetime
            self.issued += 1
            return token, self.lifetime

    def check(self, token: str, now: float) -> str | None:
        """None when ``token`` is a live access token, else why it is refused."""
        with self._lock:
            expiry = self._expiry.get(token)
        if expiry is None:
            return "unknown"
        return None if now < expiry else "expired"

    def revoke_all(self) -> int:
        with self._lock:
            count = len(self._expiry)
            self._expiry.clear()
            return count

    def configure(self, lifetime: Any) -> None:
        if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or not math.isfinite(lifetime):
            raise ValueError(f"field 'lifetime' must be a number of seconds > 0, got {lifetime!r}")
        if lifetime <= 0:
            raise ValueError(f"field 'lifetime' must be a number of seconds > 0, got {lifetime!r}")
        with self._lock:
            self.lifetime = float(lifetime)

    def state(self, now: float) -> dict[str, Any]:
        with self._lock:
            live = sum(1 for expiry in self._expiry.values() if now < expiry)
            return {"lifetime": self.lifetime, "issued": self.issued, "live": live}


def basic_user(header_value: str) -> tuple[str, str] | None:
    """(user, password) from the value after ``Basic``, or None when it does not decode."""
    try:
        decoded = base64.b64decode(header_value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def expires_in(lifetime: float) -> int | float:
    """Whole seconds as an integer (the API's type); sub-second test lifetimes stay fractional."""
    return int(lifetime) if float(lifetime).is_integer() else lifetime


def airbyte_connection(url: str, token: str, extra: dict[str, Any] | None = None) -> str:
    """``AIRFLOW_CONN_JOBS_AIRBYTE`` for an emulator at ``url``: client credentials, renewed tokens."""
    return json.dumps(
        {
            "conn_type": "jobs",
            "host": f"{url}/v1",
            "login": CLIENT_ID,
            "password": token,
            "extra": {"api": "airbyte", "auth": "client_credentials", "ui_url": url, **(extra or {})},
        }
    )
