"""``jobs-emulator`` / ``python -m airflow_jobs_provider.emulator``: serve until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from airflow_jobs_provider.emulator.faktory import server as faktory
from airflow_jobs_provider.emulator.server import DEFAULT_TOKEN, build_app, http_url, start_app

TOKEN_ENV = "JOBS_EMULATOR_TOKEN"


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, got {port}")
    return port


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="jobs-emulator",
        description="Serve emulated jobs APIs (Tinybird, Keboola, Airbyte, Faktory, acme) with scripted jobs.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=_port, default=8080, help="port; 0 picks a free one (default: %(default)s)")
    parser.add_argument(
        "--faktory-port",
        type=_port,
        default=None,
        help="port of the Faktory protocol listener (default: 7419, or a free one when --port is 0)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV) or DEFAULT_TOKEN,
        help=f"token the APIs accept (default: ${TOKEN_ENV}, else the documented local-only default)",
    )
    return parser.parse_args(argv)


async def serve(host: str, port: int, token: str, faktory_port: int | None = None) -> None:
    """Serve until SIGINT or SIGTERM, then close connections cleanly."""
    app = build_app(token)
    faktory.listen_on(app, host, faktory_port if faktory_port is not None else (7419 if port else 0))
    runner, bound_port = await start_app(app, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        print(f"jobs-emulator listening on {http_url(host, bound_port)}", flush=True)  # the token is never printed
        print(f"jobs-emulator Faktory protocol on {faktory.url_of(app)}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port, args.token, args.faktory_port))
    except OSError as error:
        print(f"jobs-emulator: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were installed
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
