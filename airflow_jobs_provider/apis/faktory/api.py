"""Faktory Enterprise job tracking, over the Faktory Work Protocol: PUSH a tracked job, then TRACK GET it.

Faktory has no HTTP API for job state, so the operations here yield ``Command``s and receive
``Reply``s (apis/faktory/wire.py) instead of Requests and Responses; hooks/faktory.py
sends them over one TCP (or TLS) connection, sync or asyncio. The handshake needs the server's
HI salt, so the transport runs it on connect, with ``hello_command`` and ``check_hello`` from here.

The "dreaded unknown": Faktory answers ``unknown`` for a jid it never saw, a job pushed without
``custom.track = 1`` and a tracking record that expired (30 min after the job ended). It is
neither success nor a reason to wait forever: ``unknown`` counts as PENDING for a grace period
(connection extra ``unknown_grace_seconds``, default 60), then as FAILED with those causes. The
grace counts from the push time that jids made by this provider carry (``airflow-<ms>-<hex>``),
so it works across processes in poke, reschedule and deferrable mode without shared state. For
other jids it counts from the first ``unknown`` this watcher saw, which a poke or deferrable
watch keeps and a reschedule-mode sensor forgets between pokes (its ``timeout`` still ends it).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from airflow_jobs_provider.apis.base import JobsApi
from airflow_jobs_provider.apis.faktory.job import checked_jid, new_jid, pushed_at, work_unit
from airflow_jobs_provider.apis.faktory.wire import Command, ProtocolError, Reply, ReplyKind
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.settings import FAKTORY_DEFAULT_PORT, ApiSettings
from airflow_jobs_provider.apis.values import progress_value
from airflow_jobs_provider.exceptions import JobsApiError, JobsAuthError, JobsConfigError

T = TypeVar("T")
FaktoryExchange = Generator[Command, Reply, T]

STATES: dict[str, JobStatus] = {
    "unknown": JobStatus.PENDING,  # only during the grace period; FAILED after it
    "enqueued": JobStatus.PENDING,
    "working": JobStatus.RUNNING,
    "failed": JobStatus.RUNNING,  # an attempt failed and a retry is scheduled
    "success": JobStatus.SUCCEEDED,
    "dead": JobStatus.FAILED,  # retries exhausted: the job is in the Dead set
}
ACTIVE_STATES = frozenset({"enqueued", "working", "failed"})

DEFAULT_UNKNOWN_GRACE = 60.0
MAX_HASH_ITERATIONS = 100_000
"""Faktory picks 4000-8095; a server asking for far more is not one we should burn CPU for."""
ENTERPRISE_ONLY = "only available in Faktory Enterprise"
PROBE_JID = "airflow-connection-test"


def password_hash(password: str, salt: str, iterations: int) -> str:
    """FWP's ``pwdhash``: ``iterations`` applications of SHA-256 to password+salt, lowercase hex."""
    digest = (password + salt).encode()
    for _ in range(max(1, iterations)):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


def address(base_url: str) -> tuple[str, int, bool]:
    """(host, port, tls) of a ``tcp://`` or ``tcp+tls://`` URL built by apis/settings.py."""
    parts = urlsplit(base_url)
    return parts.hostname or "", parts.port or FAKTORY_DEFAULT_PORT, parts.scheme == "tcp+tls"


def hello_command(hi: Reply, settings: ApiSettings) -> Command:
    """The HELLO that answers the server's ``+HI {...}``, with the password hash when it asks for one."""
    where = settings.base_url
    if hi.kind is not ReplyKind.SIMPLE or not hi.text.startswith("HI"):
        raise JobsApiError(f"{where} did not greet like a Faktory server (first reply {hi.text[:80]!r})")
    try:
        greeting = json.loads(hi.text[2:].strip() or "{}")
    except ValueError:
        greeting = None
    if not isinstance(greeting, dict):
        raise JobsApiError(f"{where} sent a HI that is not a JSON object: {hi.text[:80]!r}")
    hello: dict[str, Any] = {"v": 2}
    if "s" in greeting:
        if not settings.token:
            raise JobsAuthError(
                f"Faktory at {where} requires a password: set it as the password of connection {settings.conn_id!r}"
            )
        iterations = greeting.get("i", 1)
        if not isinstance(iterations, int) or isinstance(iterations, bool) or not 0 < iterations <= MAX_HASH_ITERATIONS:
            raise JobsApiError(f"{where} asks for {iterations!r} password-hash iterations; Faktory asks for 4000-8095")
        hello["pwdhash"] = password_hash(settings.token, str(greeting["s"]), iterations)
    return Command.with_json("HELLO", hello)


def check_hello(reply: Reply, settings: ApiSettings) -> None:
    """Raise unless the server accepted our HELLO."""
    if reply.is_ok:
        return
    if reply.is_error and "password" in reply.text.lower():
        raise JobsAuthError(
            f"Faktory at {settings.base_url} refused the password ({reply.text}): check the password of "
            f"connection {settings.conn_id!r}"
        )
    raise JobsApiError(f"Faktory at {settings.base_url} refused the handshake: {reply.text[:200]}")


class FaktoryApi(JobsApi[Command, Reply]):
    """Faktory Enterprise: push with ``custom.track = 1``, watch with ``TRACK GET``.

    Operations are exchanges of Commands and Replies (the hook pairs them with the Faktory transport).
    """

    name = "faktory"
    states = STATES
    can_list = False
    can_cancel = False
    cannot_list = (
        "Faktory cannot list jobs: tracking answers for one jid at a time (TRACK GET). Keep the job_id "
        "XCom of the task that pushed the job, or list jobs in the Faktory Web UI"
    )

    def __init__(
        self,
        settings: ApiSettings,
        status_overrides: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(settings, status_overrides)
        self.clock = clock
        self.unknown_grace = _grace(settings)
        self._first_unknown: dict[str, float] = {}

    # -- operations
    def start_job(self, spec: Mapping[str, Any]) -> FaktoryExchange[Job]:
        return (yield from self._push(spec))

    def get_job(self, job_id: str) -> FaktoryExchange[Job]:
        return (yield from self._track(checked_jid(job_id)))

    def cancel_job(self, job_id: str) -> FaktoryExchange[Job]:
        job = yield from self._track(checked_jid(job_id))
        raise JobsApiError(
            f"Faktory cannot cancel job {job.job_id} ({job.describe()}): the Faktory protocol has no command that "
            "stops a job, so it runs to its end. Stop it from the worker's own code, or delete it from its queue, "
            "Retries or Scheduled in the Faktory Web UI"
        )

    def probe(self) -> FaktoryExchange[str]:
        """The handshake (done by the transport), INFO, and a TRACK GET to be sure tracking exists."""
        info = self._json(self._checked((yield Command("INFO")), "INFO"), "INFO")
        self._tracking_reply((yield Command("TRACK GET", PROBE_JID)), PROBE_JID)
        server = info.get("server") if isinstance(info, Mapping) else None
        version = server.get("faktory_version") if isinstance(server, Mapping) else None
        return f"Connected to Faktory {version or '(version not reported)'} at {self.settings.base_url}; tracking is on"

    # -- the job of a push: its jid, which the provider chose before sending (so TRACK GET answers)
    def pin_start(self, spec: Mapping[str, Any], now: float) -> dict[str, Any]:
        """The spec with its jid fixed: a lookup after an uncertain PUSH, and a resend, use the same jid."""
        pinned = dict(spec)
        if pinned.get("jid") is None:
            pinned["jid"] = new_jid(now)
        work_unit(pinned, now)  # the spec's own errors first
        return pinned

    def lookup_problem(self, spec: Mapping[str, Any]) -> str | None:
        if spec.get("jid") is None:
            return "Faktory finds a pushed job only by its jid: give the job a 'jid'"
        return None

    def find_started(self, spec: Mapping[str, Any], since: float) -> FaktoryExchange[list[Job]]:
        """The pushed job, if Faktory tracks its jid; any state but ``unknown`` means the PUSH arrived."""
        jid = checked_jid(spec.get("jid"))
        track = self._tracking_reply((yield Command("TRACK GET", jid)), jid)
        if track.get("state") in (None, "", "unknown"):
            return []
        return [self.parse_track(track, jid)]

    def find_running(self, spec: Mapping[str, Any]) -> FaktoryExchange[list[Job]]:
        """The job with the spec's own jid while it is enqueued, working or waiting for a retry.

        Faktory cannot list jobs, so "the same job" can only mean "the same jid": without one in the
        spec there is nothing to look for.
        """
        if spec.get("jid") is None:
            raise JobsConfigError(
                "Faktory cannot list jobs, so if_running='join', 'fail' or 'cancel' needs a fixed 'jid' in the "
                "job spec: the job with that jid is the running one while it is enqueued, working or retrying. "
                "Give the job a jid (e.g. 'report-{{ ds }}'), or use if_running='start'"
            )
        jid = checked_jid(spec["jid"])
        track = self._tracking_reply((yield Command("TRACK GET", jid)), jid)
        if track.get("state") not in ACTIVE_STATES:
            return []
        return [self.parse_track(track, jid)]

    # -- exchanges
    def _push(self, spec: Mapping[str, Any]) -> FaktoryExchange[Job]:
        work = work_unit(spec, self.clock())
        jid = work["jid"]
        # Ask first: an OSS server fails here, before anything is enqueued, and a jid that is
        # still enqueued or working is not pushed a second time.
        before = self._tracking_reply((yield Command("TRACK GET", jid)), jid)
        if before.get("state") in ACTIVE_STATES:
            raise JobsConfigError(
                f"Faktory already has job {jid} ({before.get('state')}); pushing it again would run it twice. "
                "Watch that job, or give the new one another jid (or none: one is generated)"
            )
        reply = yield Command.with_json("PUSH", work, replayable=False)
        if not reply.is_ok:
            raise JobsApiError(
                f"Faktory at {self.settings.base_url} refused to push job {jid} ({work['jobtype']}): {reply.text[:300]}"
            )
        self._first_unknown.pop(jid, None)
        payload: dict[str, Any] = {key: work[key] for key in ("jid", "jobtype", "queue") if key in work}
        return Job(jid, self.resolve("enqueued", jid), "enqueued", payload=payload)

    def _track(self, jid: str) -> FaktoryExchange[Job]:
        track = self._tracking_reply((yield Command("TRACK GET", jid)), jid)
        return self.parse_track(track, jid)

    # -- parsing
    def parse_track(self, track: Mapping[str, Any], jid: str) -> Job:
        """A Job from TRACK GET's JSON (``jid``, ``state``, ``percent``, ``desc``, ``updated_at``)."""
        raw = track.get("state")
        if not isinstance(raw, str) or not raw:
            raise JobsApiError(f"Faktory's track of job {jid} has no 'state': {json.dumps(track)[:200]}")
        if raw == "unknown":
            return self._unknown(jid, dict(track))
        self._first_unknown.pop(jid, None)
        desc = track.get("desc") or None
        desc = desc if isinstance(desc, str) else None
        message = desc
        if raw == "failed":
            message = f"attempt failed, Faktory will retry: {desc}" if desc else (
                "attempt failed, Faktory will retry (the error text is in the Web UI's Retries tab)"
            )
        elif raw == "dead":
            message = "retries exhausted, the job is in Faktory's Dead set (the error text is in the Web UI's Dead tab)"
            message += f"; last progress: {desc}" if desc else ""
        return Job(
            job_id=jid,
            status=self.resolve(raw, jid),
            raw_status=raw,
            progress=progress_value(track.get("percent")),
            message=message,
            payload=dict(track),
        )

    def _unknown(self, jid: str, track: dict[str, Any]) -> Job:
        status = self.resolve("unknown", jid)
        if status is not JobStatus.PENDING:  # the task mapped "unknown" itself: no grace
            return Job(jid, status, "unknown", message=self._unknown_causes(jid), payload=track)
        now = self.clock()
        since = pushed_at(jid)
        what = "it was pushed"
        if since is None:
            since, what = self._first_unknown.setdefault(jid, now), "this watch first saw it unknown"
        waited = now - since
        if waited >= self.unknown_grace:
            message = f"still 'unknown' {waited:.0f}s after {what} (grace {self.unknown_grace:g}s). " + (
                self._unknown_causes(jid)
            )
            return Job(jid, JobStatus.FAILED, "unknown", message=message, payload=track)
        left = self.unknown_grace - waited
        message = f"Faktory does not know this job yet; it fails if still unknown in {left:.0f}s"
        return Job(jid, JobStatus.PENDING, "unknown", message=message, payload=track)

    def _unknown_causes(self, jid: str) -> str:
        return (
            f"Faktory answers 'unknown' for job {jid} when (1) the jid is wrong or the job was never enqueued, "
            "(2) the job was pushed without custom {\"track\": 1} (jobs this provider pushes always have it), or "
            "(3) its tracking record expired: Faktory keeps it 30 minutes after the job ends, or after it waited "
            f"30 minutes in a busy queue. Raise extra unknown_grace_seconds of connection {self.settings.conn_id!r} "
            "if jobs take longer to show up"
        )

    def _tracking_reply(self, reply: Reply, jid: str) -> dict[str, Any]:
        """TRACK GET's JSON; an OSS server's error becomes 'Enterprise tracking is required'."""
        if reply.is_error and ENTERPRISE_ONLY in reply.text:
            raise JobsConfigError(
                f"Faktory at {self.settings.base_url} has no job tracking ({reply.text}): watching Faktory jobs "
                f"needs Faktory Enterprise's TRACK command. Point connection {self.settings.conn_id!r} at a "
                "Faktory Enterprise server"
            )
        if reply.kind is ReplyKind.NULL:
            return {"jid": jid, "state": "unknown"}
        body = self._json(self._checked(reply, f"TRACK GET {jid}"), f"TRACK GET {jid}")
        if not isinstance(body, dict):
            raise JobsApiError(f"Faktory's track of job {jid} is not a JSON object: {reply.text[:200]}")
        return body

    def _checked(self, reply: Reply, what: str) -> Reply:
        if reply.is_error:
            raise JobsApiError(f"Faktory at {self.settings.base_url} answered {what} with an error: {reply.text[:300]}")
        return reply

    def _json(self, reply: Reply, what: str) -> Any:
        try:
            return reply.json()
        except ProtocolError:
            raise JobsApiError(
                f"Faktory at {self.settings.base_url} answered {what} with {reply.text[:120]!r}, not JSON: "
                "is it really a Faktory server?"
            ) from None

def _grace(settings: ApiSettings) -> float:
    value = settings.extras.get("unknown_grace_seconds", DEFAULT_UNKNOWN_GRACE)
    try:
        number = -1.0 if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not math.isfinite(number) or number < 0:
        raise JobsConfigError(
            f"connection {settings.conn_id!r}: extra 'unknown_grace_seconds' must be a number of seconds >= 0, "
            f"got {value!r}"
        )
    return number
