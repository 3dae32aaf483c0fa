"""Build the emulator app and run it: in a background thread for tests, or in the foreground.

``DEFAULT_TOKEN`` ("emulator-token") is the token every emulated API accepts unless another is
given. It is a well-known value for local use only: never expose an emulator started with it
beyond the loopback interface.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from email.utils import formatdate

from aiohttp import web

from airflow_jobs_provider.emulator.acme import routes as acme
from airflow_jobs_provider.emulator.airbyte import routes as airbyte
from airflow_jobs_provider.emulator.control import airbyte as airbyte_control
from airflow_jobs_provider.emulator.control import endpoint as control
from airflow_jobs_provider.emulator.control import faktory as faktory_control
from airflow_jobs_provider.emulator.control import faults as faults_control
from airflow_jobs_provider.emulator.control.client import EmulatorServer
from airflow_jobs_provider.emulator.core.access_log import AccessLog, access_log_middleware
from airflow_jobs_provider.emulator.core.errors import json_errors
from airflow_jobs_provider.emulator.core.faults import FAULTS_KEY, FaultInjector
from airflow_jobs_provider.emulator.core.store import JobStore
from airflow_jobs_provider.emulator.faktory import server as faktory
from airflow_jobs_provider.emulator.keboola import routes as keboola
from airflow_jobs_provider.emulator.tinybird import routes as tinybird

DEFAULT_TOKEN = "emulator-token"
SHUTDOWN_TIMEOUT = 1.0
START_TIMEOUT = 10.0

ApiRegistrar = Callable[[web.Application, JobStore, str], None]
API_REGISTRARS: tuple[ApiRegistrar, ...] = (
    tinybird.register,
    acme.register,
    keboola.register,
    airbyte.register,
    faktory.register,
)
"""One ``register(app, store, token)`` per emulated API; adding an API means adding it here."""


def build_app(token: str = DEFAULT_TOKEN) -> web.Application:
    """The emulator app: every API's routes, the control endpoint (with its fault, Faktory and
    Airbyte settings), one shared store and access log."""
    if not token:
        raise ValueError("the emulator needs a non-empty token")
    store, log, faults = JobStore(), AccessLog(), FaultInjector()
    # The access log is outermost so it sees the status the error middleware produced; fault
    # injection sits between them, so a fault after the handler replaces the API's real answer.
    app = web.Application(middlewares=[access_log_middleware(log), faults.middleware, json_errors])
    app[FAULTS_KEY] = faults
    app.on_response_prepare.append(_dated_by(store))
    for register in API_REGISTRARS:
        register(app, store, token)
    listener = app[faktory.FAKTORY_KEY]
    # /_emulator/reset also clears the fault rules and the Faktory settings; Airbyte's token lifetime outlives it.
    control.register(app, store, log, also_reset=(listener.reset, faults.clear))
    faults_control.register(app, faults, store.apis)
    faktory_control.register(app, listener)
    airbyte_control.register(app, app[airbyte.TOKENS_KEY], store.now)
    return app


def _dated_by(store: JobStore) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """Every answer's ``Date`` from the APIs' clock, as a real server's comes from its own clock."""

    async def date(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["Date"] = formatdate(store.now(), usegmt=True)

    return date


def http_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def start_app(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on host:port (0 = a free port); returns the runner and the bound port.

    aiohttp's access logger is off: it would write query strings, tokens included.
    """
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port: int = runner.addresses[0][1]
    return runner, bound_port


class _ServerThread(threading.Thread):
    """Runs the app on its own event loop, so sync tests and demos can use it."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        super().__init__(name="jobs-emulator", daemon=True)
        self._app, self._host, self._port = app, host, port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.port: int | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        runner: web.AppRunner | None = None
        try:
            runner, self.port = loop.run_until_complete(start_app(self._app, self._host, self._port))
        except BaseException as error:  # handed to the starting thread, which re-raises it
            self.error = error
        self._ready.set()
        try:
            if runner is not None:
                loop.run_forever()
                loop.run_until_complete(runner.cleanup())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def wait_started(self) -> int:
        """The bound port, once listening; raises what prevented the start."""
        if not self._ready.wait(START_TIMEOUT):
            raise TimeoutError(f"the emulator did not start within {START_TIMEOUT}s")
        if self.error is not None or self.port is None:
            raise RuntimeError(f"the emulator could not start: {self.error}") from self.error
        return self.port

    def stop(self) -> None:
        # The loop is already closed when start-up failed; there is nothing left to stop then.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._loop.stop)
        self.join(START_TIMEOUT)


def _wait_accepting(host: str, port: int, timeout: float = START_TIMEOUT) -> None:
    """Block until a TCP connect succeeds, so the first request never races the listener."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextmanager
def run_emulator(
    token: str = DEFAULT_TOKEN, host: str = "127.0.0.1", port: int = 0, faktory_port: int = 0
) -> Iterator[EmulatorServer]:
    """Run an emulator in a background thread for the ``with`` block.

    :param token: the one secret every API accepts (token, API key, client secret, Faktory password).
    :param host: interface to listen on; keep the loopback default unless you mean it.
    :param port: port to listen on; 0 picks a free one (read it from ``.url``).
    :param faktory_port: port of the Faktory protocol listener; 0 picks a free one (``.faktory_url``).
    """
    app = build_app(token)
    faktory.listen_on(app, host, faktory_port)
    thread = _ServerThread(app, host, port)
    thread.start()
    try:
        bound_port = thread.wait_started()
        _wait_accepting(host, bound_port)
        yield EmulatorServer(http_url(host, bound_port), token, faktory_url=faktory.url_of(app))
    finally:
        thread.stop()
