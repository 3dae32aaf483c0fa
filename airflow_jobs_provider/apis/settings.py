"""What an API adapter needs from an Airflow connection, checked once, with no secrets in repr."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_jobs_provider.exceptions import JobsConfigError

CONN_TYPE = "jobs"
DEFAULT_CONN_ID = "jobs_default"
DEFAULT_HTTP_TIMEOUT = 30.0
FAKTORY_SCHEMES = ("tcp", "tcp+tls")
FAKTORY_DEFAULT_PORT = 7419
RETRY_EXTRAS = {
    "retry_attempts": "max_attempts",
    "retry_max_seconds": "max_seconds",
    "retry_initial_wait": "initial_wait",
    "retry_max_wait": "max_wait",
}
"""Connection extras that tune the RetryPolicy (hooks/retry.py) → the policy's field they set."""
MAX_RETRY_ATTEMPTS = 100
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiSettings:
    conn_id: str
    api: str
    base_url: str
    token: str | None = field(default=None, repr=False)
    login: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = DEFAULT_HTTP_TIMEOUT
    verify: bool | str = True
    retry: Mapping[str, float] = field(default_factory=dict)
    """RetryPolicy fields the connection's ``retry_*`` extras set; the rest keep the defaults."""
    batching: bool = True
    """Extra ``batching``: False makes every JobStatusTrigger poll its own job (no shared polls)."""
    batch_overlap: float | None = None
    """Extra ``batch_overlap_seconds``: how far a changed-since feed reaches back (else the API's default)."""

    @classmethod
    def from_connection(cls, conn: Any) -> ApiSettings:
        """Read host/password/extra of a ``jobs`` connection (Airflow 2 or 3 Connection object)."""
        conn_id = str(getattr(conn, "conn_id", None) or DEFAULT_CONN_ID)
        extras = _extras_of(conn, conn_id)
        api = str(extras.get("api") or "").strip().lower()
        if not api:
            raise JobsConfigError(
                f"connection {conn_id!r} does not say which API it speaks: set extra "
                '{"api": "tinybird"} (or "keboola", "airbyte", "faktory", "rest")'
            )
        verify = _verify(extras.get("verify", True), conn_id)
        if verify is False:
            log.warning(
                "Connection %r has extra verify=false: TLS certificates are NOT checked, so anyone on the "
                "network path can pose as the API and read the token. Set verify to the path of a CA "
                "bundle instead",
                conn_id,
            )
        return cls(
            conn_id=conn_id,
            api=api,
            base_url=_faktory_url(conn, conn_id, extras) if api == "faktory" else _base_url(conn, conn_id),
            token=getattr(conn, "password", None) or None,
            login=getattr(conn, "login", None) or None,
            extras=extras,
            timeout=_positive_float(extras.get("timeout", DEFAULT_HTTP_TIMEOUT), "timeout", conn_id),
            verify=verify,
            retry=_retry(extras, conn_id),
            batching=_flag(extras.get("batching", True), "batching", conn_id),
            batch_overlap=(
                _positive_float(extras["batch_overlap_seconds"], "batch_overlap_seconds", conn_id)
                if extras.get("batch_overlap_seconds") is not None
                else None
            ),
        )


def _extras_of(conn: Any, conn_id: str) -> dict[str, Any]:
    """The extra dict; form fields saved as ``extra__jobs__<name>`` count as ``<name>``."""
    raw = getattr(conn, "extra", None)
    if isinstance(raw, Mapping):
        extras = dict(raw)
    elif raw:
        try:
            extras = json.loads(raw)
        except ValueError as exc:
            raise JobsConfigError(
                f"connection {conn_id!r}: extra is not valid JSON ({exc}); write a JSON object such as "
                '{"api": "tinybird"}'
            ) from None
        if not isinstance(extras, dict):
            raise JobsConfigError(f"connection {conn_id!r}: extra must be a JSON object")
    else:
        extras = {}
    prefix = f"extra__{CONN_TYPE}__"
    for key in [k for k in extras if k.startswith(prefix)]:
        value = extras.pop(key)
        if value not in (None, ""):
            extras.setdefault(key[len(prefix):], value)
    return extras


def _base_url(conn: Any, conn_id: str) -> str:
    host = (getattr(conn, "host", None) or "").strip()
    if not host:
        raise JobsConfigError(
            f"connection {conn_id!r} has no host: set it to the API's base URL, e.g. https://api.tinybird.co"
        )
    if "://" not in host:
        schema = (getattr(conn, "schema", None) or "").strip()
        if schema not in ("http", "https"):
            raise JobsConfigError(
                f"connection {conn_id!r}: host {host!r} has no scheme; write it as https://{host}"
            )
        host = f"{schema}://{host}"
    parts = urlsplit(host)
    if parts.username or parts.password:
        raise JobsConfigError(
            f"connection {conn_id!r}: host must not carry credentials (user:password@); put the token in "
            "the connection's password field"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise JobsConfigError(f"connection {conn_id!r}: host {host!r} is not an http(s) URL")
    try:
        own_port = parts.port
    except ValueError as exc:  # "https://host:http", "https://host:99999"
        raise JobsConfigError(f"connection {conn_id!r}: host {host!r} has a bad port ({exc})") from None
    port = getattr(conn, "port", None)
    netloc = parts.netloc if (own_port or not port) else f"{parts.netloc}:{int(port)}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _faktory_url(conn: Any, conn_id: str, extras: Mapping[str, Any]) -> str:
    """``tcp://host:port`` or ``tcp+tls://host:port``: Faktory speaks its own protocol over TCP, not HTTP.

    The host may be bare or carry the scheme; the port comes from the host, else the connection's
    port, else 7419; extra ``tls: true`` also switches TLS on.
    """
    host = (getattr(conn, "host", None) or "").strip()
    if not host:
        raise JobsConfigError(f"connection {conn_id!r} has no host: set it to the Faktory server, e.g. tcp://faktory:7419")
    parts = urlsplit(host if "://" in host else f"tcp://{host}")
    if parts.username or parts.password:
        raise JobsConfigError(
            f"connection {conn_id!r}: host must not carry credentials (:password@); put the Faktory password in "
            "the connection's password field"
        )
    if parts.scheme not in FAKTORY_SCHEMES or not parts.hostname or parts.path.strip("/"):
        raise JobsConfigError(f"connection {conn_id!r}: host {host!r} is not a Faktory address like tcp://faktory:7419")
    try:
        port = parts.port or int(getattr(conn, "port", None) or FAKTORY_DEFAULT_PORT)
        if not 0 < port < 65536:
            raise ValueError(f"{port} is out of range")
    except ValueError as exc:
        raise JobsConfigError(f"connection {conn_id!r}: host {host!r} has a bad port ({exc})") from None
    tls = parts.scheme == "tcp+tls" or _flag(extras.get("tls", False), "tls", conn_id)
    hostname = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{'tcp+tls' if tls else 'tcp'}://{hostname}:{port}"


def _flag(value: Any, name: str, conn_id: str) -> bool:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise JobsConfigError(f"connection {conn_id!r}: extra {name!r} must be true or false, got {value!r}")
    return value


def _positive_float(value: Any, name: str, conn_id: str) -> float:
    try:
        number = -1.0 if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not math.isfinite(number) or number <= 0:
        raise JobsConfigError(f"connection {conn_id!r}: extra {name!r} must be a positive number of seconds")
    return number


def _retry(extras: Mapping[str, Any], conn_id: str) -> dict[str, float]:
    """The ``retry_*`` extras, checked: a whole number of attempts, positive seconds, waits in order."""
    retry: dict[str, float] = {}
    for name, policy_field in RETRY_EXTRAS.items():
        if extras.get(name) is None or name == "retry_attempts":
            continue
        retry[policy_field] = _positive_float(extras[name], name, conn_id)
    attempts = extras.get("retry_attempts")
    if attempts is not None:
        whole = str(attempts).isdigit() if isinstance(attempts, str) else isinstance(attempts, int)
        if isinstance(attempts, bool) or not whole or not 1 <= int(attempts) <= MAX_RETRY_ATTEMPTS:
            raise JobsConfigError(
                f"connection {conn_id!r}: extra 'retry_attempts' must be a whole number from 1 to "
                f"{MAX_RETRY_ATTEMPTS} (1 = never retry), got {attempts!r}"
            )
        retry["max_attempts"] = int(attempts)
    if retry.get("max_wait", math.inf) < retry.get("initial_wait", 0.0):
        raise JobsConfigError(
            f"connection {conn_id!r}: extra 'retry_max_wait' ({retry['max_wait']:g}s) is below "
            f"'retry_initial_wait' ({retry['initial_wait']:g}s); raise it or drop one of them"
        )
    return retry


def _verify(value: Any, conn_id: str) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, str) and value:
        return value  # a CA bundle path
    raise JobsConfigError(f"connection {conn_id!r}: extra 'verify' must be true, false or a CA bundle path")
