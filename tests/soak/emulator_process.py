"""The emulator in a process of its own for the soak: it gets its own core, as a real API would."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from airflow_jobs_provider.emulator import EmulatorServer
from airflow_jobs_provider.emulator.__main__ import TOKEN_ENV

LISTENING = re.compile(r"^jobs-emulator listening on (http://\S+)$")
FAKTORY = re.compile(r"^jobs-emulator Faktory protocol on (tcp://\S+)$")


@contextmanager
def emulator_process(token: str) -> Iterator[EmulatorServer]:
    """Start ``jobs-emulator`` on free ports (token through the environment, not argv) and stop it after."""
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow_jobs_provider.emulator", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**os.environ, TOKEN_ENV: token},
        )
        try:
            assert process.stdout is not None
            http = LISTENING.match(process.stdout.readline().strip())
            tcp = FAKTORY.match(process.stdout.readline().strip())
            if not (http and tcp):
                errors.seek(0)
                raise RuntimeError(f"the emulator did not start: {errors.read()[-2000:]}")
            yield EmulatorServer(http[1], token, timeout=30.0, faktory_url=tcp[1])
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
