"""Send a Request with requests (workers) or aiohttp (triggerer); failures become TransientError.

Both carry the same sans-I/O exchanges (``apis.exchange.Exchange``) under the one retry loop (hooks/retry.py), and
read at most MAX_BODY_BYTES of an answer: a jobs API never sends that much, and a host that does
(a misconfigured URL, a hostile server) must not exhaust the worker's or the triggerer's memory.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import Any, TypeVar

import requests
from urllib3.exceptions import NewConnectionError

from airflow_jobs_provider.apis.exchange import Request, Response, header
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.exceptions import JobsApiError, JobsConfigError
from airflow_jobs_provider.hooks import retry
from airflow_jobs_provider.hooks.retry import RetryPolicy, TransientError, transient_status

T = TypeVar("T")
MAX_BODY_BYTES = 10 * 1024 * 1024
CHUNK_BYTES = 64 * 1024


class SyncTransport:
    def __init__(self, settings: ApiSettings, policy: RetryPolicy):
        self.settings = settings
        self.policy = policy
        self.session = requests.Session()

    def send(self, request: Request) -> Response:
        return retry.send(self.policy, request, lambda: self._send_once(request), self.settings.base_url)

    def _send_once(self, request: Request) -> Response:
        try:
            with self.session.request(
                request.method,
                request.url(self.settings.base_url),
                json=request.json,
                headers=dict(request.headers),
                timeout=self.settings.timeout,
                allow_redirects=False,
                verify=self.settings.verify,
                stream=True,
            ) as answer:
                self._check_length(request, answer.headers)
                raw = bytearray()
                for chunk in answer.iter_content(CHUNK_BYTES):
                    raw += chunk
                    if len(raw) > MAX_BODY_BYTES:
                        raise too_large(request, self.settings)
                status, headers, url = answer.status_code, dict(answer.headers), answer.url
        except requests.Timeout as error:
            raise TransientError("timed out", reached_server=not isinstance(error, requests.ConnectTimeout)) from None
        except requests.exceptions.SSLError as error:
            if (untrusted := certificate_error(error, self.settings)) is not None:
                raise untrusted from None
            raise TransientError(f"TLS failed ({_cause(error)})", reached_server=False) from None
        except requests.ConnectionError as error:
            raise TransientError(f"connection failed ({_cause(error)})", reached_server=_reached(error)) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as error:
            raise TransientError(f"the answer broke off ({_cause(error)})", reached_server=True) from None
        return checked_answer(status, bytes(raw), headers, url)

    def _check_length(self, request: Request, headers: Any) -> None:
        length = header(headers, "Content-Length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise too_large(request, self.settings)

    def close(self) -> None:
        self.session.close()


class AsyncTransport:
    """One aiohttp.ClientSession for the transport's whole life (a trigger's life).

    The session is leased from ``loop_shared``: every transport on the loop with the same base
    URL, TLS setting and timeout uses the same one, so 10,000 triggers share one keep-alive pool.
    """

    def __init__(self, settings: ApiSettings, policy: RetryPolicy):
        import aiohttp  # not at DAG parse time: only the triggerer needs it
        from yarl import URL

        from airflow_jobs_provider.hooks.loop_shared import lease_session

        self.settings = settings
        self.policy = policy
        self._aiohttp = aiohttp
        self._url = URL
        self._base_url = settings.base_url
        key = (settings.base_url, settings.verify, settings.timeout)
        self._lease = lease_session(key, lambda: _new_session(aiohttp, settings))
        self.session = self._lease.session

    async def send(self, request: Request) -> Response:
        return await retry.asend(self.policy, request, functools.partial(self._send_once, request), self._base_url)

    async def _send_once(self, request: Request) -> Response:
        aiohttp = self._aiohttp
        url = request.url(self._base_url)
        try:
            async with self.session.request(
                request.method,
                self._url(url, encoded=True),
                json=request.json,
                headers=request.headers or None,
                allow_redirects=False,
            ) as answer:
                length = answer.content_length
                if (length or 0) > MAX_BODY_BYTES:
                    raise too_large(request, self.settings)
                if length is not None and "Content-Encoding" not in answer.headers:
                    raw = await answer.read()  # the parser reads no more than the declared (unpacked) length
                else:  # no length (chunked): read in chunks, and stop at the limit
                    chunks = bytearray()
                    async for chunk in answer.content.iter_chunked(CHUNK_BYTES):
                        chunks += chunk
                        if len(chunks) > MAX_BODY_BYTES:
                            raise too_large(request, self.settings)
                    raw = bytes(chunks)
        except aiohttp.ClientConnectorError as error:
            if (untrusted := certificate_error(error, self.settings)) is not None:
                raise untrusted from None
            raise TransientError(f"connection failed ({type(error).__name__})", reached_server=False) from None
        except (asyncio.TimeoutError, aiohttp.ClientError) as error:
            raise TransientError(f"{type(error).__name__}", reached_server=True) from None
        # Redirects are not followed: the answer's URL is the one asked for (no yarl round trip to a str)
        return checked_answer(answer.status, raw, dict(answer.headers), url)

    async def close(self) -> None:
        await self._lease.release()


def _new_session(aiohttp: Any, settings: ApiSettings) -> Any:
    """A session for every transport with these settings.

    No connection limit: a shared pool must not queue one trigger behind another. No cookies: two
    connections with the same host but different tokens share the session, and a cookie set for
    one must never travel with the other's requests.
    """
    session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=settings.timeout),
        connector=aiohttp.TCPConnector(ssl=_ssl_setting(settings.verify), limit=0),
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    if hasattr(session, "_retry_connection"):
        # aiohttp (3.10+) silently re-sends GET/PUT/DELETE once when a kept-alive connection drops.
        # The RetryPolicy is the only retry: attempts stay countable, and a start declared as PUT
        # (declarative REST) is never sent twice behind its back.
        session._retry_connection = False
    return session


def checked_answer(status: int, raw: bytes, headers: dict[str, str], url: str) -> Response:
    """Decode an answer; a retryable status, or a JSON answer garbled on the way, is a TransientError.

    A 2xx that says it is JSON but does not parse was cut or mangled in transit: sending the
    request again can fix it. A 2xx that is not JSON at all (an HTML page) is a wrong host, which
    the API adapter reports as such, so that case is left to it.
    """
    response = Response.decode(status, raw, headers, url)
    if retry := transient_status(response.status, response.headers):
        raise retry
    garbled = isinstance(response.body, str)  # decode keeps the text of a body that is not JSON
    if garbled and 200 <= status < 300 and "json" in (header(headers, "Content-Type") or "").lower():
        raise TransientError(
            f"HTTP {status} with a garbled JSON body",
            reached_server=True,
            hint="it keeps answering broken JSON: check that the connection's host is the API's base URL, "
            "or try again later",
        )
    return response


def certificate_error(error: BaseException, settings: ApiSettings) -> JobsConfigError | None:
    """An untrusted server certificate is a setting to fix, not a failure to retry."""
    cause = _find(error, ssl.SSLCertVerificationError)
    if cause is None:
        return None
    inner = getattr(cause, "certificate_error", None)  # aiohttp's error wraps ssl's
    detail = getattr(cause, "verify_message", None) or getattr(inner, "verify_message", None) or str(cause)
    return JobsConfigError(
        f"the TLS certificate of {settings.base_url} is not trusted ({detail}): set extra "
        f"'verify' of connection {settings.conn_id!r} to the path of the CA bundle that signed it (or false, "
        "for testing only)"
    )


def _find(error: BaseException | None, wanted: type[ssl.SSLCertVerificationError], depth: int = 8) -> Any:
    """``wanted`` anywhere in the chain of causes, reasons and arguments requests and aiohttp wrap it in."""
    if error is None or depth == 0:
        return None
    if isinstance(error, wanted):
        return error
    linked = [getattr(error, "reason", None), getattr(error, "os_error", None), error.__cause__, error.__context__]
    linked += [arg for arg in error.args if isinstance(arg, BaseException)]
    for other in linked:
        if isinstance(other, BaseException) and (found := _find(other, wanted, depth - 1)) is not None:
            return found
    return None


def too_large(request: Request, settings: ApiSettings) -> JobsApiError:
    return JobsApiError(
        f"{request.method} {settings.base_url}{request.path}: the answer is larger than "
        f"{MAX_BODY_BYTES // (1024 * 1024)} MB, which no jobs API sends for one request; it was not read. "
        f"Check that the host of connection {settings.conn_id!r} is the API's base URL"
    )


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
