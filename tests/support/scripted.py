"""One scripted transport for every exchange: canned answers in, the messages sent recorded.

An API's operations are generators that yield messages (HTTP ``Request``s, Faktory ``Command``s)
and receive answers (``Response``s, ``Reply``s). ``Script`` stands in for the transport: it answers
each message with the next canned answer, fails on a message it has no answer for, and, when the
exchange ends, on an answer left unused. Nothing opens a socket.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from airflow_jobs_provider.apis.exchange import run_exchange


class Script:
    """A fake transport: answers each message with the next canned answer and records the message."""

    def __init__(self, *answers: Any):
        self.answers = list(answers)
        self.requests: list[Any] = []
        """What the exchange sent, in order (Requests, or Faktory Commands)."""

    def send(self, message: Any) -> Any:
        self.requests.append(message)
        assert self.answers, f"the exchange sent an unexpected extra message: {message}"
        return self.answers.pop(0)

    async def asend(self, message: Any) -> Any:
        """``send`` for an async driver (``arun_exchange``)."""
        return self.send(message)

    def run(self, exchange: Generator[Any, Any, Any]) -> Any:
        """Drive the exchange to its end with the canned answers; return its result."""
        result = run_exchange(exchange, self.send)
        assert not self.answers, f"the exchange stopped before using {self.answers}"
        return result
