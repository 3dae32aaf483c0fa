"""A bare Faktory client for emulator tests: raw commands, raw replies, nothing hidden."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

from airflow_jobs_provider.apis.faktory.api import password_hash
from airflow_jobs_provider.apis.faktory.wire import Reply, ReplyReader


class RawFaktory:
    """One TCP connection; ``hello()`` does the handshake, ``call()`` sends one line."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self.replies = ReplyReader()
        self.greeting: dict[str, Any] = {}

    def read(self) -> Reply | None:
        """The next reply, or None when the server closed the connection."""
        while (reply := self.replies.next_reply()) is None:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.replies.feed(data)
        return reply

    def hi(self) -> dict[str, Any]:
        reply = self.read()
        assert reply is not None and reply.text.startswith("HI "), reply
        self.greeting = json.loads(reply.text[3:])
        return self.greeting

    def hello(self, password: str, **fields: Any) -> Reply | None:
        greeting = self.hi()
        pwdhash = password_hash(password, greeting["s"], greeting["i"])
        return self.call("HELLO " + json.dumps({"v": 2, "pwdhash": pwdhash, **fields}))

    def call(self, line: str, payload: Any = None) -> Reply | None:
        text = line if payload is None else f"{line} {json.dumps(payload)}"
        self.sock.sendall(text.encode() + b"\r\n")
        return self.read()

    def track(self, jid: str) -> dict[str, Any]:
        reply = self.call(f"TRACK GET {jid}")
        assert reply is not None and not reply.is_error, reply
        return dict(reply.json())

    def close(self) -> None:
        self.sock.close()


def connect(url: str, password: str, **hello: Any) -> RawFaktory:
    client = RawFaktory(url)
    reply = client.hello(password, **hello)
    assert reply is not None and reply.is_ok, reply
    return client


def job(jid: str, **fields: Any) -> dict[str, Any]:
    return {"jid": jid, "jobtype": "Report", "args": [1], "custom": {"track": 1}, **fields}
