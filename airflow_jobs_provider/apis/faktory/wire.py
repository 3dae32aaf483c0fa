"""Faktory's wire format (FWP v2): a command is one text line, a reply is Redis RESP.

Bytes in, values out, no sockets: the sync and async transports and the emulator all use it,
and a reply split across any number of reads parses the same (``ReplyReader``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

CRLF = b"\r\n"
MAX_LINE = 1 << 20
"""A command line or a one-line reply longer than this (1 MiB) is not Faktory talking."""
MAX_BULK = 64 << 20
"""The largest bulk reply accepted (64 MiB): a bigger length is garbage, not a job."""
COMPOUND_VERBS = frozenset({"TRACK", "QUEUE", "BATCH"})
"""Verbs whose second word is part of the command (``TRACK GET <jid>``)."""


class ProtocolError(ValueError):
    """Bytes that are not FWP/RESP: the connection cannot be trusted any more."""


class ReplyKind(str, Enum):
    SIMPLE = "+"
    ERROR = "-"
    INTEGER = ":"
    BULK = "$"
    NULL = "null"
    """``$-1``: a null bulk string (e.g. FETCH with nothing to do)."""


@dataclass(frozen=True)
class Reply:
    """One server reply; ``text`` is the simple string, the error line or the bulk payload."""

    kind: ReplyKind
    text: str = ""
    number: int | None = None

    @classmethod
    def ok(cls) -> Reply:
        return cls(ReplyKind.SIMPLE, "OK")

    @classmethod
    def error(cls, message: str, code: str = "ERR") -> Reply:
        return cls(ReplyKind.ERROR, f"{code} {message}")

    @classmethod
    def bulk(cls, payload: Any) -> Reply:
        """A bulk reply; dicts and lists are written as compact JSON, as Faktory does."""
        text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        return cls(ReplyKind.BULK, text)

    @classmethod
    def null(cls) -> Reply:
        return cls(ReplyKind.NULL)

    @property
    def is_ok(self) -> bool:
        return self.kind is ReplyKind.SIMPLE and self.text == "OK"

    @property
    def is_error(self) -> bool:
        return self.kind is ReplyKind.ERROR

    @property
    def error_code(self) -> str:
        """``ERR``, ``NOTUNIQUE``, ...: the first word of an error reply."""
        return self.text.split(" ", 1)[0] if self.is_error else ""

    def json(self) -> Any:
        """The payload of a bulk (or simple) reply decoded as JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            raise ProtocolError(f"expected JSON, got {self.text[:120]!r}") from None

    def encode(self) -> bytes:
        if self.kind is ReplyKind.NULL:
            return b"$-1\r\n"
        if self.kind is ReplyKind.BULK:
            data = self.text.encode()
            return b"$%d\r\n%s\r\n" % (len(data), data)
        if self.kind is ReplyKind.INTEGER:
            return b":%d\r\n" % (self.number or 0)
        return self.kind.value.encode() + _one_line(self.text) + CRLF


@dataclass(frozen=True)
class Command:
    """One client command: ``verb`` (``PUSH``, ``TRACK GET``, ...) and its single argument.

    ``replayable`` is False for commands that create work (PUSH): the retry policy resends
    those only when the server certainly never got them, so a job never runs twice.
    """

    verb: str
    argument: str = ""
    replayable: bool = True

    uncertain_advice: ClassVar[str] = (
        "; not sent again, and the task is not retried, so that the job cannot run twice. Look the jid up "
        "(JobsHook.get_job: any state but 'unknown' means it arrived, or the Faktory Web UI) before running the "
        "task again"
    )
    unavailable_advice: ClassVar[str] = "Faktory is unreachable or overloaded, try again later"

    @classmethod
    def with_json(cls, verb: str, payload: Any, *, replayable: bool = True) -> Command:
        """JSON on one line: ``json.dumps`` escapes newlines, so a payload cannot end the command."""
        return cls(verb, json.dumps(payload, separators=(",", ":")), replayable)

    def encode(self) -> bytes:
        line = f"{self.verb} {self.argument}" if self.argument else self.verb
        return _one_line(line) + CRLF

    def describe(self) -> str:
        """For logs and errors: the verb and the jid it concerns, never a JSON payload (HELLO has a hash)."""
        if not self.argument.startswith(("{", "[")):
            return f"{self.verb} {self.argument}".strip()
        try:
            jid = json.loads(self.argument).get("jid")
        except (ValueError, AttributeError):
            jid = None
        return f"{self.verb} {jid}" if isinstance(jid, str) else self.verb

    def describe_at(self, address: str) -> str:
        return f"{self.describe()} to Faktory at {address}"

    def json(self) -> Any:
        try:
            return json.loads(self.argument)
        except ValueError:
            raise ProtocolError(f"{self.verb}: argument is not JSON: {self.argument[:120]!r}") from None


def parse_command(line: bytes) -> Command:
    """A command line as a server reads it (with or without its CRLF)."""
    try:
        text = line.rstrip(b"\r\n").decode()
    except UnicodeDecodeError:
        raise ProtocolError("command is not UTF-8") from None
    verb, _, argument = text.partition(" ")
    if verb in COMPOUND_VERBS and argument:
        sub, _, argument = argument.partition(" ")
        verb = f"{verb} {sub}"
    if not verb:
        raise ProtocolError("empty command")
    return Command(verb, argument)


class ReplyReader:
    """Accumulates bytes as they arrive and hands out complete replies, one at a time."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    @property
    def pending(self) -> int:
        """Bytes received but not yet parsed into a reply."""
        return len(self._buffer)

    def next_reply(self) -> Reply | None:
        """The next complete reply, or None until more bytes arrive; ProtocolError on garbage."""
        end = self._buffer.find(CRLF)
        if end < 0:
            if len(self._buffer) > MAX_LINE:
                raise ProtocolError(f"no line end in the first {MAX_LINE} bytes")
            return None
        line = bytes(self._buffer[:end])
        prefix, rest = line[:1], _text(line[1:])
        if prefix == b"$":
            return self._bulk(rest, end)
        del self._buffer[: end + 2]
        if prefix in (b"+", b"-"):
            return Reply(ReplyKind(prefix.decode()), rest)
        if prefix == b":":
            return Reply(ReplyKind.INTEGER, rest, _integer(rest))
        raise ProtocolError(f"unexpected reply {line[:80]!r}")

    def _bulk(self, length_text: str, end: int) -> Reply | None:
        length = _integer(length_text)
        if length == -1:
            del self._buffer[: end + 2]
            return Reply.null()
        if not 0 <= length <= MAX_BULK:
            raise ProtocolError(f"bad bulk length {length}")
        start, stop = end + 2, end + 2 + length
        if len(self._buffer) < stop + 2:
            return None
        if self._buffer[stop : stop + 2] != CRLF:
            raise ProtocolError("bulk string not followed by CRLF")
        payload = _text(bytes(self._buffer[start:stop]))
        del self._buffer[: stop + 2]
        return Reply(ReplyKind.BULK, payload)


def _one_line(text: str) -> bytes:
    if "\r" in text or "\n" in text:
        raise ProtocolError(f"line break inside {text[:80]!r}: it would end the line early")
    return text.encode()


def _text(data: bytes) -> str:
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise ProtocolError("reply is not UTF-8") from None


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ProtocolError(f"not an integer: {text[:40]!r}") from None
