"""A Faktory client nobody here wrote (``pyfaktory`` 0.2.13) pushes, works, ACKs and FAILs jobs on the emulator.

That proves the emulator's protocol (the iterated password hash, RESP replies, FETCH/ACK/FAIL,
BEAT) against an independent implementation. pyfaktory pins pydantic and pebble, so it lives in
its own venv, ``.venv-pyfaktory``, built once and reused. The test is skipped only when pip
cannot reach the package registry; any other failure to build the venv fails it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from airflow_jobs_provider.emulator import EmulatorServer
from tests.support.airflow_versions import once_on_latest_airflow

pytestmark = once_on_latest_airflow

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-pyfaktory"
READY = VENV / ".ready"
CHECK = Path(__file__).parent / "client_checks" / "pyfaktory_check.py"  # run by the pyfaktory venv
PACKAGE = "pyfaktory==0.2.13"
UNREACHABLE = re.compile(
    r"NewConnectionError|Max retries exceeded|Temporary failure in name resolution|Network is unreachable"
    r"|Connection refused|ConnectTimeout|ReadTimeout|ProxyError|Could not fetch URL|No matching distribution found",
)


def pyfaktory_python() -> Path:
    """The cached venv's interpreter, building the venv first if it is missing or incomplete."""
    python = VENV / "bin" / "python"
    if READY.exists() and python.exists():
        return python
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, timeout=120)
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", PACKAGE]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        shutil.rmtree(VENV, ignore_errors=True)
        if UNREACHABLE.search(output):
            pytest.skip(f"pip cannot reach the package registry to install {PACKAGE}: {output.strip()[-400:]}")
        pytest.fail(f"pip install {PACKAGE} failed:\n{output}")
    READY.write_text("pyfaktory venv for tests/emulator/test_faktory_pyfaktory.py\n")
    return python


def test_pyfaktory_producer_and_worker_run_jobs_through_the_emulator(emulator: EmulatorServer, tmp_path: Path) -> None:
    python = pyfaktory_python()
    address = urlsplit(emulator.faktory_url)
    url = f"tcp://:{emulator.token}@{address.hostname}:{address.port}"  # pyfaktory's URL form
    result = subprocess.run(
        [str(python), str(CHECK), url, str(tmp_path)], capture_output=True, text=True, timeout=120, check=False
    )
    print(result.stdout)
    assert result.returncode == 0, f"pyfaktory check failed:\n{result.stdout}\n{result.stderr}"
    assert "ALL PYFAKTORY CHECKS PASSED" in result.stdout

    verbs = {entry["verb"] for entry in emulator.faktory()["commands"]}
    assert {"PUSH", "FETCH", "ACK", "FAIL", "BEAT", "INFO", "TRACK GET"} <= verbs
    states = {job["id"]: job["raw_status"] for job in emulator.jobs("faktory")}
    assert states == {"pyfaktory-add-1": "success", "pyfaktory-explode-1": "dead"}
