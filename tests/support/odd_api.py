"""A server that answers like a broken or wrong jobs API, for the answers the emulator never gives.

``GET /v0/jobs/<case>`` (Tinybird's path) and ``GET /acme/v2/runs/<case>`` answer per CASE_ANSWERS;
every request's path is recorded, so a test can prove that nothing followed a redirect here.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiohttp import web

from airflow_jobs_provider.emulator.server import http_url, start_app

HUGE = 11 * 1024 * 1024


async def _huge_with_length(request: web.Request) -> web.StreamResponse:
    answer = web.StreamResponse(headers={"Content-Type": "application/json"})
    answer.content_length = HUGE
    await answer.prepare(request)
    chunk = b" " * (1024 * 1024)
    for _ in range(HUGE // len(chunk)):
        await answer.write(chunk)
    return answer


async def _huge_chunked(request: web.Request) -> web.StreamResponse:
    answer = web.StreamResponse(headers={"Content-Type": "application/json"})
    answer.enable_chunked_encoding()
    await answer.prepare(request)
    await answer.write(b'{"id": "x", "status": "done", "pad": "')
    chunk = b"x" * (1024 * 1024)
    for _ in range(HUGE // len(chunk)):
        await answer.write(chunk)
    await answer.write(b'"}')
    return answer


def _answer(case: str, other_host: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]] | web.Response:
    answers: dict[str, web.Response] = {
        "no-state": web.json_response({"id": "no-state"}),
        "wrong-type": web.json_response({"id": "wrong-type", "status": 42}),
        "not-an-object": web.json_response([1, 2]),
        "html": web.Response(text="<html><body>Welcome to nginx!</body></html>", content_type="text/html"),
        "garbled": web.Response(body=b'{"id": "garbled", "sta', content_type="application/json"),
        "redirect": web.Response(status=302, headers={"Location": f"{other_host}/v0/jobs/stolen"}),
        "run-no-state": web.json_response({"run": {"id": "run-no-state"}}),
        "run-unknown-state": web.json_response({"run": {"id": "run-unknown-state", "state": "EXPLODED"}}),
    }
    streamed = {"huge-length": _huge_with_length, "huge-chunked": _huge_chunked}
    if case in streamed:
        return streamed[case]
    return answers.get(case) or web.json_response({"error": f"no case {case}"}, status=404)


@dataclass
class OddApi:
    url: str
    seen: list[str] = field(default_factory=list)


def _app(odd: OddApi, other_host: str) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        odd.seen.append(request.path)
        answer = _answer(request.match_info["case"], other_host)
        return answer if isinstance(answer, web.Response) else await answer(request)

    app = web.Application()
    app.router.add_get("/v0/jobs/{case}", handle)
    app.router.add_get("/acme/v2/runs/{case}", handle)
    return app


@contextmanager
def odd_api(other_host: str = "http://127.0.0.1:9") -> Iterator[OddApi]:
    """Serve the odd API on a free loopback port in a thread of its own."""
    loop = asyncio.new_event_loop()
    odd = OddApi(url="")
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        runner, port = loop.run_until_complete(start_app(_app(odd, other_host), "127.0.0.1", 0))
        odd.url = http_url("127.0.0.1", port)
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="odd-api", daemon=True)
    thread.start()
    assert ready.wait(10), "the odd API did not start"
    try:
        yield odd
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
