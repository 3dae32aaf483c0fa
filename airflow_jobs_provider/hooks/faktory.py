"""Send Faktory commands over TCP: a blocking socket for workers, asyncio streams for the triggerer.

Each transport keeps ONE connection, handshaken on connect, for its whole life, and opens a new
one only when the server dropped it (an idle connection that turned readable has hung up).
Failures become TransientErrors under the RetryPolicy the HTTP transports use: a command is sent
again only if it is replayable or certainly never reached the server, so a PUSH never runs twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl

from airflow_jobs_provider.apis.faktory.api import address, check_hello, hello_command
from airflow_jobs_provider.apis.faktory.wire import Command, ProtocolError, Reply, ReplyReader
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.exceptions import JobsApiError, JobsConfigError
from airflow_jobs_provider.hooks import retry
from airflow_jobs_provider.hooks.retry import RetryPolicy, TransientError

READ_SIZE = 65536
END = Command("END")


class FaktorySyncTransport:
    """One blocking (optionally TLS) socket for the hook's life."""

    def __init__(self, settings: ApiSettings, policy: RetryPolicy) -> None:
        self.settings = settings
        self.policy = policy
        self.host, self.port, self.tls = address(settings.base_url)
        self._sock: socket.socket | None = None
        self._replies = ReplyReader()

    @property
    def session(self) -> socket.socket:
        """The connected socket (opened on first use): what ``JobsHook.get_conn`` returns."""
        return self._connected()

    def send(self, command: Command) -> Reply:
        return retry.send(self.policy, command, lambda: self._send_once(command), self.settings.base_url)

    def _send_once(self, command: Command) -> Reply:
        sock = self._connected()
        try:
            sock.sendall(command.encode())
            return self._read(sock)
        except (OSError, ProtocolError) as error:
            self._drop()
            raise TransientError(_reason(error), reached_server=True) from None

    def _connected(self) -> socket.socket:
        if self._sock is not None and not _hung_up(self._sock):
            return self._sock
        self._drop()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.settings.timeout)
        except OSError as error:
            raise TransientError(f"cannot connect: {_reason(error)}", reached_server=False) from None
        try:
            if self.tls:
                sock = tls_context(self.settings.verify).wrap_socket(sock, server_hostname=self.host)
            self._replies = ReplyReader()
            hi = self._read(sock)
            sock.sendall(hello_command(hi, self.settings).encode())
            check_hello(self._read(sock), self.settings)
        except BaseException as error:
            sock.close()
            raise _handshake_error(error, self.settings) from None
        self._sock = sock
        return sock

    def _read(self, sock: socket.socket) -> Reply:
        while (reply := self._replies.next_reply()) is None:
            data = sock.recv(READ_SIZE)
            if not data:
                raise ConnectionResetError("Faktory closed the connection")
            self._replies.feed(data)
        return reply

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def close(self) -> None:
        """Say END (Faktory's goodbye) and close."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.sendall(END.encode())
        self._drop()


class FaktoryAsyncTransport:
    """One asyncio connection for the trigger's life; nothing on the event loop blocks."""

    def __init__(self, settings: ApiSettings, policy: RetryPolicy) -> None:
        self.settings = settings
        self.policy = policy
        self.host, self.port, self.tls = address(settings.base_url)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._replies = ReplyReader()

    async def send(self, command: Command) -> Reply:
        return await retry.asend(self.policy, command, lambda: self._send_once(command), self.settings.base_url)

    async def _send_once(self, command: Command) -> Reply:
        reader, writer = await self._connected()
        try:
            writer.write(command.encode())
            await asyncio.wait_for(writer.drain(), self.settings.timeout)
            return await self._read(reader)
        except (OSError, ProtocolError, asyncio.TimeoutError) as error:
            await self._drop()
            raise TransientError(_reason(error), reached_server=True) from None

    async def _connected(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._open():
            assert self._reader is not None and self._writer is not None
            return self._reader, self._writer
        await self._drop()
        # Loading CA certificates reads files: do it off the loop.
        context = await asyncio.to_thread(tls_context, self.settings.verify) if self.tls else None
        server_hostname = self.host if context else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, ssl=context, server_hostname=server_hostname),
                self.settings.timeout,
            )
        except ssl.SSLCertVerificationError as error:
            raise _handshake_error(error, self.settings) from None
        except (OSError, asyncio.TimeoutError) as error:
            raise TransientError(f"cannot connect: {_reason(error)}", reached_server=False) from None
        try:
            self._replies = ReplyReader()
            hi = await self._read(reader)
            hello = await asyncio.to_thread(hello_command, hi, self.settings)  # thousands of SHA-256 rounds
            writer.write(hello.encode())
            check_hello(await self._read(reader), self.settings)
        except BaseException as error:
            writer.close()
            raise _handshake_error(error, self.settings) from None
        self._reader, self._writer = reader, writer
        return reader, writer

    def _open(self) -> bool:
        """A connection is open until the server hangs up (the reader sees EOF) or we close it."""
        if self._reader is None or self._writer is None:
            return False
        return not (self._reader.at_eof() or self._writer.is_closing())

    async def _read(self, reader: asyncio.StreamReader) -> Reply:
        while (reply := self._replies.next_reply()) is None:
            data = await asyncio.wait_for(reader.read(READ_SIZE), self.settings.timeout)
            if not data:
                raise ConnectionResetError("Faktory closed the connection")
            self._replies.feed(data)
        return reply

    async def _drop(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, asyncio.TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), self.settings.timeout)

    async def close(self) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(END.encode())
        await self._drop()


def tls_context(verify: bool | str) -> ssl.SSLContext:
    """The connection's ``verify`` extra as an SSL context: true, false, or a CA bundle path."""
    context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _handshake_error(error: BaseException, settings: ApiSettings) -> BaseException:
    """Before the command is sent nothing can have happened: a dropped handshake is safe to retry."""
    where, conn_id = settings.base_url, settings.conn_id
    if isinstance(error, ssl.SSLCertVerificationError):
        return JobsConfigError(
            f"the TLS certificate of Faktory at {where} is not trusted ({error.verify_message}): set extra 'verify' "
            f"of connection {conn_id!r} to the CA bundle's path (or false, for testing only)"
        )
    if isinstance(error, ProtocolError):
        return JobsApiError(f"{where} does not speak the Faktory protocol ({error}): check the host and port")
    if isinstance(error, (OSError, asyncio.TimeoutError)):
        return TransientError(f"handshake failed: {_reason(error)}", reached_server=False)
    return error


def _hung_up(sock: socket.socket) -> bool:
    """An idle connection has nothing to read; readable means the server closed it (or sent garbage)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):  # closed under us
        return True
    return bool(readable)


def _reason(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
