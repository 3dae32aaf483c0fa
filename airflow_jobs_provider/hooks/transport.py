"""Send a Request with requests (workers) or aiohttp (triggerer); failures become TransientError.

Both drive the same sans-I/O exchanges (``apis.base.Exchange``) under the same RetryPolicy.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import requests
from urllib3.exceptions import NewConnectionError

from airflow_jobs_provider.apis.base import Exchange, Request, Response
from airflow_jobs_provider.retry import RetryPolicy, TransientError, transient_status
from airflow_jobs_provider.settings import ApiSettings

T = TypeVar("T")
log = logging.getLogger(__name__)


def run_exchange(exchange: Exchange[T], send: Callable[[Request], Response]) -> T:
    try:
        request = next(exchange)
        while True:
            request = exchange.send(send(request))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def arun_exchange(exchange: Exchange[T], send: Callable[[Request], Awaitable[Response]]) -> T:
    try:
        request = next(exchange)
        while True:
            request = exchange.send(await send(request))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


class SyncTransport:
    def __init__(self, settings: ApiSettings, policy: RetryPolicy):
        self.settings = settings
        self.policy = policy
        self.session = requests.Session()

    def send(self, request: Request) -> Response:
        retrying = self.policy.sync(request, log)
        try:
            for attempt in retrying:
                with attempt:
                    return self._send_once(request)
        except TransientError as error:
            attempts = retrying.statistics.get("attempt_number", 1)
            raise self.policy.final_error(request, error, attempts, self.settings.base_url) from None
        raise AssertionError("unreachable: tenacity returns or raises")

    def _send_once(self, request: Request) -> Response:
        try:
            answer = self.session.request(
                request.method,
                request.url(self.settings.base_url),
                json=request.json,
                headers=dict(request.headers),
                timeout=self.settings.timeout,
                allow_redirects=False,
                verify=self.settings.verify,
            )
        except requests.Timeout as error:
            raise TransientError("timed out", reached_server=not isinstance(error, requests.ConnectTimeout)) from None
        except requests.ConnectionError as error:
            raise TransientError(f"connection failed ({_cause(error)})", reached_server=_reached(error)) from None
        response = Response.decode(answer.status_code, answer.content, answer.headers, answer.url)
        if retry := transient_status(response.status, response.headers):
            raise retry
        return response

    def close(self) -> None:
        self.session.close()


class AsyncTransport:
    """One aiohttp.ClientSession for the transport's whole life (a trigger's life)."""

    def __init__(self, settings: ApiSettings, policy: RetryPolicy):
        import aiohttp  # not at DAG parse time: only the triggerer needs it

        self.settings = settings
        self.policy = policy
        self._aiohttp = aiohttp
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=settings.timeout),
            connector=aiohttp.TCPConnector(ssl=_ssl_setting(settings.verify)),
        )

    async def send(self, request: Request) -> Response:
        retrying = self.policy.asynchronous(request, log)
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send_once(request)
        except TransientError as error:
            attempts = retrying.statistics.get("attempt_number", 1)
            raise self.policy.final_error(request, error, attempts, self.settings.base_url) from None
        raise AssertionError("unreachable: tenacity returns or raises")

    async def _send_once(self, request: Request) -> Response:
        from yarl import URL

        aiohttp = self._aiohttp
        try:
            async with self.session.request(
                request.method,
                URL(request.url(self.settings.base_url), encoded=True),
                json=request.json,
                headers=dict(request.headers),
                allow_redirects=False,
            ) as answer:
                raw = await answer.read()
        except aiohttp.ClientConnectorError as error:
            raise TransientError(f"connection failed ({type(error).__name__})", reached_server=False) from None
        except (asyncio.TimeoutError, aiohttp.ClientError) as error:
            raise TransientError(f"{type(error).__name__}", reached_server=True) from None
        response = Response.decode(answer.status, raw, dict(answer.headers), str(answer.url))
        if retry := transient_status(response.status, response.headers):
            raise retry
        return response

    async def close(self) -> None:
        await self.session.close()


def _ssl_setting(verify: bool | str) -> Any:
    if verify is True:
        return True
    if verify is False:
        return False
    return ssl.create_default_context(cafile=verify)


def _reached(error: requests.ConnectionError) -> bool:
    """False only when the TCP connection itself was never made (the request cannot have been seen)."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return not isinstance(reason, NewConnectionError)


def _cause(error: Exception) -> str:
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return type(reason or error).__name__
