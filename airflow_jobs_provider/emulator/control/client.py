"""A client for the control endpoint, usable from any thread or process (stdlib only).

Tests and demos hold an ``EmulatorServer`` whether the emulator runs in-process
(``run_emulator``) or was started elsewhere (``jobs-emulator`` CLI): only the URL differs.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode

# The emulator is local: never send control calls through an HTTP proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmulatorControlError(RuntimeError):
    """The control endpoint refused a call; the message is the emulator's own explanation."""


class EmulatorServer:
    """A running emulator: where it is, the token its APIs accept, and its control helpers.

    :param url: base URL, e.g. ``http://127.0.0.1:54321``.
    :param token: token the emulated APIs accept.
    :param timeout: seconds to wait for each control call.
    :param faktory_url: ``tcp://host:port`` of its Faktory listener (asked from the emulator when not given).
    """

    def __init__(self, url: str, token: str, timeout: float = 10.0, faktory_url: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._faktory_url = faktory_url

    @property
    def faktory_url(self) -> str:
        """Where Faktory clients connect (the password is ``token``)."""
        if self._faktory_url is None:
            self._faktory_url = str(self.faktory()["url"])
        return self._faktory_url

    @property
    def faktory_port(self) -> int:
        return int(self.faktory_url.rsplit(":", 1)[1])

    def faktory(self, **settings: Any) -> dict[str, Any]:
        """Faktory's address, command log and settings; ``enterprise=False`` / ``track_ttl=2`` change them."""
        result: dict[str, Any] = self._call("POST" if settings else "GET", "/_emulator/faktory", settings or None)
        return result

    def __repr__(self) -> str:  # the token stays out of logs and test reports
        return f"EmulatorServer(url={self.url!r})"

    def script(self, api: str, **fields: Any) -> dict[str, Any]:
        """Queue a script for the next ``times`` jobs of ``api`` (outcome, duration, ...)."""
        result: dict[str, Any] = self._call("POST", "/_emulator/script", {"api": api, **fields})
        return result

    def set_defaults(self, api: str, **fields: Any) -> dict[str, Any]:
        """Change what jobs of ``api`` do when no script is queued."""
        result: dict[str, Any] = self._call("POST", "/_emulator/defaults", {"api": api, **fields})
        return result

    def jobs(self, api: str | None = None) -> list[dict[str, Any]]:
        """Every job (expired ones too), oldest first, with its current raw state and GET count."""
        query = f"?{urlencode({'api': api})}" if api else ""
        result: list[dict[str, Any]] = self._call("GET", f"/_emulator/jobs{query}")
        return result

    def create_jobs(self, api: str, count: int, spec: dict[str, Any], **fields: Any) -> list[str]:
        """``count`` jobs of ``api`` at once, without a start request each; their ids, oldest first.

        ``fields``: ``ends_in`` (seconds to the first end, negative = in the past), ``spread``
        (seconds the ends are spread over), ``duration``, ``outcome``, ``error``.
        """
        path = f"/_emulator/jobs/{quote(api, safe='')}"
        result: dict[str, Any] = self._call("POST", path, {"count": count, "spec": spec, **fields})
        return list(result["ids"])

    def requests(self) -> list[dict[str, Any]]:
        """The access log: method, path (token redacted), status, peer, api; oldest first."""
        result: list[dict[str, Any]] = self._call("GET", "/_emulator/requests")
        return result

    def force_state(self, api: str, job_id: str, raw_status: str) -> dict[str, Any]:
        """Pin a job to a raw state from now on."""
        path = f"/_emulator/jobs/{quote(api, safe='')}/{quote(job_id, safe='')}/state"
        result: dict[str, Any] = self._call("POST", path, {"raw_status": raw_status})
        return result

    def expire(self, api: str, job_id: str) -> dict[str, Any]:
        """Make a job vanish from its API (404), as after retention; jobs_log keeps it."""
        path = f"/_emulator/jobs/{quote(api, safe='')}/{quote(job_id, safe='')}/expire"
        result: dict[str, Any] = self._call("POST", path)
        return result

    def faults(
        self,
        api: str,
        rates: dict[str, float],
        *,
        route: str | None = None,
        seed: int = 0,
        **timing: float | int | str,
    ) -> dict[str, Any]:
        """Inject faults into ``api`` (or one route of it) at these rates; see emulator/core/faults.py.

        ``rates`` maps a kind (``5xx``, ``429``, ``reset``, ``lost``, ``dropped``, ``stall``, ``garbage``,
        ``html``, ``truncated``, ``slow``) to a probability; ``timing`` takes ``retry_after``,
        ``stall_seconds``, ``slow_seconds``, ``times`` (inject that many faults, then none) and
        ``method`` (only requests of that HTTP method).
        All rates 0 removes the rule.
        """
        rule: dict[str, Any] = {"api": api, "rates": rates, "seed": seed, **timing}
        if route is not None:
            rule["route"] = route
        result: dict[str, Any] = self._call("POST", "/_emulator/faults", rule)
        return result

    def fault_stats(self) -> dict[str, Any]:
        """``{"rules": [...], "injected": {api: {kind: count}}}``."""
        result: dict[str, Any] = self._call("GET", "/_emulator/faults")
        return result

    def clear_faults(self) -> None:
        """Remove every fault rule (``reset()`` does too)."""
        self._call("DELETE", "/_emulator/faults")

    def clock(self, offset_seconds: float | None = None) -> dict[str, Any]:
        """Set (or, without an argument, read) how far the APIs' clock runs ahead of ours; reset() zeroes it."""
        if offset_seconds is None:
            result: dict[str, Any] = self._call("GET", "/_emulator/clock")
        else:
            result = self._call("POST", "/_emulator/clock", {"offset_seconds": offset_seconds})
        return result

    def reset(self) -> None:
        """Forget all jobs, scripts, fault rules and logged requests; defaults back to built-in."""
        self._call("POST", "/_emulator/reset")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                detail = error.read().decode(errors="replace")
            with contextlib.suppress(ValueError, KeyError, TypeError):
                detail = json.loads(detail)["error"]
            raise EmulatorControlError(f"{method} {path} -> {error.code}: {detail}") from None
