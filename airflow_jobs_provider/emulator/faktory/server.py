"""Faktory's TCP protocol for the emulator (job-apis.md §4): HI/HELLO with a password, PUSH, FETCH,
ACK, FAIL, BEAT, INFO, END and Enterprise's TRACK GET/SET, on a loopback port of its own.

The listener starts and stops with the aiohttp app (on_startup/on_cleanup) on the same event
loop and shares the app's JobStore, so ``POST /_emulator/script {"api": "faktory", ...}``
scripts the next pushed jobs (emulator/faktory/worker.py runs those). The password is the
emulator's token. ``/_emulator/faktory`` (emulator/control/faktory.py) shows the address and a
log of commands with each client's address (one per TCP connection), and switches OSS mode and
the tracking records' lifetime.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from airflow_jobs_provider.apis.faktory.api import password_hash
from airflow_jobs_provider.apis.faktory.wire import MAX_LINE, Command, ProtocolError, Reply, ReplyKind, parse_command
from airflow_jobs_provider.emulator.core.faults import FAULTS_KEY, Fault, FaultInjector, tcp_fault
from airflow_jobs_provider.emulator.core.store import JobStore
from airflow_jobs_provider.emulator.faktory.broker import API, ENTERPRISE_ONLY, STATES, Broker, FaktoryError
from airflow_jobs_provider.emulator.faktory.worker import run_scripted

HANDSHAKE_TIMEOUT = 2.0
FETCH_WAIT = 2.0
FETCH_POLL = 0.05
LOG_SIZE = 5000


class FaktoryServer:
    """The listener, its connections and the built-in worker's tasks, around one Broker."""

    def __init__(self, store: JobStore, password: str) -> None:
        self.broker = Broker(store)
        self.host, self.port = "127.0.0.1", 0
        self.password = password
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
        self.faults: FaultInjector | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"

    async def start(self, app: web.Application) -> None:
        self.faults = app.get(FAULTS_KEY)
        self._server = await asyncio.start_server(self._connection, self.host, self.port, limit=MAX_LINE)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self, _app: web.Application) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def reset(self) -> None:
        self.broker.reset_settings()
        self.broker.connections = self.broker.commands = 0
        self.log.clear()

    def describe(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "enterprise": self.broker.enterprise,
            "track_ttl": self.broker.track_ttl,
            "connections": self.broker.connections,
            "commands": list(self.log),
        }

    def fault_for(self, command: Command) -> Fault | None:
        """The fault injected into this command's reply, if a rule for ``faktory`` says so."""
        if self.faults is None:
            return None
        return self.faults.decide(API, command.verb, "TCP", command.describe())

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:  # closed with the server, not left dangling
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.broker.connections += 1
        peer = writer.get_extra_info("peername")
        session = _Session(self, reader, writer, f"{peer[0]}:{peer[1]}" if peer else "unknown")
        try:
            await session.run()
        except (OSError, ProtocolError, ValueError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass  # a client that breaks the protocol or hangs up is simply disconnected
        except asyncio.CancelledError:
            pass  # the emulator stops: end like a dropped client, or asyncio's stream callback logs an error
        finally:
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()


class _Session:
    """One client connection: the handshake, then one reply per command until END or EOF."""

    def __init__(self, server: FaktoryServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str):
        self.server, self.broker = server, server.broker
        self.reader, self.writer, self.peer = reader, writer, peer
        self.worker: str | None = None
        self._handlers: dict[str, Callable[[Command], Awaitable[Reply]]] = {
            "PUSH": self._push,
            "FETCH": self._fetch,
            "ACK": self._ack,
            "FAIL": self._fail,
            "BEAT": self._beat,
            "INFO": self._info,
            "TRACK GET": self._track_get,
            "TRACK SET": self._track_set,
        }

    async def run(self) -> None:
        if not await self._handshake():
            return
        while line := await self.reader.readline():
            command = parse_command(line)
            if command.verb == "END":
                return
            fault = self.server.fault_for(command)
            if fault is not None and fault.before:  # dropped before the server acted on it
                self.server.log.append(_log_entry(self.peer, command, None, fault))
                await tcp_fault(fault, b"", self.writer)
                return
            reply = await self._answer(command)
            self.broker.commands += 1
            self.server.log.append(_log_entry(self.peer, command, reply, fault))
            if fault is not None and await tcp_fault(fault, reply.encode(), self.writer):
                return
            await self._send(reply)

    async def _handshake(self) -> bool:
        """HI with salt and iterations; HELLO must carry the matching pwdhash. False ends the connection."""
        salt, iterations = secrets.token_hex(8), 4000 + secrets.randbelow(4096)
        await self._send(Reply(ReplyKind.SIMPLE, "HI " + json.dumps({"v": 2, "i": iterations, "s": salt})))
        line = await asyncio.wait_for(self.reader.readline(), HANDSHAKE_TIMEOUT)
        if not line.startswith(b"HELLO {"):
            return False  # as the real server: no reply, just closed
        hello = parse_command(line).json()
        expected = password_hash(self.server.password, salt, iterations)
        given = hello.get("pwdhash") if isinstance(hello, dict) else None
        if not isinstance(given, str) or not hmac.compare_digest(given, expected):
            await self._send(Reply.error("Invalid password"))
            return False
        self.worker = hello.get("wid") if isinstance(hello.get("wid"), str) else None
        await self._send(Reply.ok())
        return True

    async def _answer(self, command: Command) -> Reply:
        if command.verb.startswith("TRACK") and not self.broker.enterprise:
            return Reply.error(ENTERPRISE_ONLY)
        handler = self._handlers.get(command.verb)
        if handler is None:
            return Reply.error(f"Unknown command {command.verb}")
        try:
            return await handler(command)
        except FaktoryError as error:
            return Reply.error(error.message, error.code)
        except ProtocolError as error:
            return Reply.error(f"invalid JSON: {error}")

    async def _send(self, reply: Reply) -> None:
        self.writer.write(reply.encode())
        await self.writer.drain()

    async def _push(self, command: Command) -> Reply:
        job = self.broker.push(command.json())
        if job.scripted:
            self.server._spawn(run_scripted(self.broker, job.jid, job.stored.facts.script))
        return Reply.ok()

    async def _fetch(self, command: Command) -> Reply:
        """Block up to 2 s for a job, as Faktory does, then answer null."""
        queues = command.argument.split() or ["default"]
        deadline = asyncio.get_running_loop().time() + FETCH_WAIT
        while (work := self.broker.fetch(queues, self.worker or self.peer)) is None:
            if asyncio.get_running_loop().time() >= deadline:
                return Reply.null()
            await asyncio.sleep(FETCH_POLL)
        return Reply.bulk(work)

    async def _ack(self, command: Command) -> Reply:
        self.broker.ack(_jid(command.json()))
        return Reply.ok()

    async def _fail(self, command: Command) -> Reply:
        failure = command.json()
        jid = _jid(failure)
        self.broker.fail(jid, str(failure.get("errtype") or "unknown"), str(failure.get("message") or ""))
        return Reply.ok()

    async def _beat(self, command: Command) -> Reply:
        beat = command.json()
        if not isinstance(beat, dict) or not beat.get("wid") or beat.get("wid") != self.worker:
            return Reply.error("BEAT needs the wid this connection said HELLO with")
        return Reply.ok()

    async def _info(self, command: Command) -> Reply:
        return Reply.bulk(self.broker.info())

    async def _track_get(self, command: Command) -> Reply:
        if not command.argument:
            return Reply.error("TRACK GET needs a jid")
        return Reply.bulk(self.broker.track_get(command.argument))

    async def _track_set(self, command: Command) -> Reply:
        self.broker.track_set(command.json())
        return Reply.ok()


def _jid(payload: Any) -> str:
    if not isinstance(payload, dict) or not isinstance(payload.get("jid"), str):
        raise FaktoryError("a JSON object with a jid is required")
    return str(payload["jid"])


def _log_entry(peer: str, command: Command, reply: Reply | None, fault: Fault | None = None) -> dict[str, Any]:
    """What the control endpoint shows: never an argument other than a jid (HELLO is not logged)."""
    jid = command.argument if command.verb == "TRACK GET" else None
    if jid is None and command.argument.startswith("{"):
        with contextlib.suppress(ProtocolError, AttributeError):
            jid = command.json().get("jid")
    answer = None if reply is None else reply.text if reply.is_error else reply.kind.name.lower()
    return {"peer": peer, "verb": command.verb, "jid": jid, "reply": answer, "fault": fault.kind if fault else None}


FAKTORY_KEY = web.AppKey("faktory", FaktoryServer)


def register(app: web.Application, store: JobStore, token: str) -> None:
    """Add Faktory to ``app``: its API name in the store and its listener (under ``FAKTORY_KEY``).

    Its settings route (emulator/control/faktory.py) is added by build_app, with the control endpoint.
    """
    store.register_api(API, STATES)
    server = FaktoryServer(store, token)
    app[FAKTORY_KEY] = server
    app.on_startup.append(server.start)
    app.on_cleanup.append(server.stop)


def listen_on(app: web.Application, host: str, port: int) -> None:
    """Where the listener binds when the app starts; port 0 picks a free one."""
    server = app[FAKTORY_KEY]
    server.host, server.port = host, port


def url_of(app: web.Application) -> str:
    """``tcp://host:port`` of the running listener."""
    return app[FAKTORY_KEY].url
