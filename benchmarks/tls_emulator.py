"""The emulator serving its APIs over HTTPS (the benchmark's TLS runs), with control calls over plain HTTP.

Same app as ``jobs-emulator`` (``build_app``), on two loopback sites: HTTPS with the benchmark's
throwaway certificate for the watchers, plain HTTP for creating jobs and reading the access log
(the benchmark's own calls, outside the measured window). Prints
``jobs-emulator listening on <plain url> <https url>`` and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import ssl

from aiohttp import web

from airflow_jobs_provider.emulator.faktory import server as faktory
from airflow_jobs_provider.emulator.server import SHUTDOWN_TIMEOUT, build_app


async def serve(token: str, cert: str, key: str) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = build_app(token)
    faktory.listen_on(app, "127.0.0.1", 0)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    plain, secure = web.TCPSite(runner, "127.0.0.1", 0), web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await plain.start()
    await secure.start()
    plain_port, secure_port = (address[1] for address in runner.addresses)  # in the order the sites started
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"jobs-emulator listening on http://127.0.0.1:{plain_port} https://127.0.0.1:{secure_port}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    from benchmarks.emulator_jobs import raise_fd_limit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", required=True)
    parser.add_argument("--cert", required=True, help="certificate chain, PEM")
    parser.add_argument("--key", required=True, help="private key, PEM")
    args = parser.parse_args(argv)
    raise_fd_limit()
    asyncio.run(serve(args.token, args.cert, args.key))


if __name__ == "__main__":
    main()
