"""``python -m airflow_jobs_provider.emulator``: one line with the URL, serves, stops on a signal."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from airflow_jobs_provider.emulator import DEFAULT_TOKEN, EmulatorServer

LISTENING = re.compile(r"^jobs-emulator listening on (http://127\.0\.0\.1:(\d+))$")


@contextmanager
def cli(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start the CLI on a free port and yield (process, url) once it has printed its line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_jobs_provider.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline().strip()
        match = LISTENING.match(line)
        assert match, f"unexpected first line {line!r}; stderr: {process.stderr.read() if process.poll() else ''}"
        assert int(match[2]) > 0
        yield process, match[1]
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def _status(url: str, token: str) -> int:
    with requests.Session() as http:
        http.trust_env = False
        return http.get(f"{url}/v0/jobs", params={"token": token}, timeout=10).status_code


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_serves_with_the_given_token_and_stops_on_signal(signum: signal.Signals) -> None:
    with cli("--token", "cli-secret") as (process, url):
        assert _status(url, "cli-secret") == 200
        assert _status(url, DEFAULT_TOKEN) == 403
        process.send_signal(signum)
        out, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
        assert "cli-secret" not in out + err


def test_cli_reads_the_token_from_the_environment() -> None:
    with cli(env={"JOBS_EMULATOR_TOKEN": "from-env"}) as (process, url):
        assert _status(url, "from-env") == 200
        assert _status(url, DEFAULT_TOKEN) == 403
        process.terminate()
        out, _ = process.communicate(timeout=10)
        assert "from-env" not in out


def test_cli_rejects_a_bad_port() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "airflow_jobs_provider.emulator", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "port must be between 0 and 65535" in result.stderr


def test_cli_reports_a_busy_port_and_exits_1(emulator: EmulatorServer) -> None:
    busy = emulator.url.rsplit(":", 1)[1]
    result = subprocess.run(
        [str(Path(sys.executable).with_name("jobs-emulator")), "--port", busy],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{busy}" in result.stderr


def test_help_never_shows_the_token() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "airflow_jobs_provider.emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "JOBS_EMULATOR_TOKEN": "env-secret"},
    )
    assert result.returncode == 0 and "--token" in result.stdout
    assert "env-secret" not in result.stdout and DEFAULT_TOKEN not in result.stdout
