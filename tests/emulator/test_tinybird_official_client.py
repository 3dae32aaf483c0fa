"""Tinybird's own client (``TinyB`` from the ``tinybird`` package) works against the emulator.

The package pins libraries that clash with Airflow, so it lives in its own venv, built once
under ``.venv-tinybird`` and reused. The test is skipped only when pip cannot reach the
package registry; any other failure to build the venv fails the test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_jobs_provider.emulator import EmulatorServer
from tests.support.airflow_versions import once_on_latest_airflow

pytestmark = once_on_latest_airflow

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-tinybird"
READY = VENV / ".ready"
CHECK = Path(__file__).parent / "client_checks" / "tinybird_client_check.py"  # run by the tinybird client venv
# Installed without dependencies: only what tinybird.tb.client imports.
INSTALLS = (["--no-deps", "tinybird"], ["requests", "click"])
UNREACHABLE = re.compile(
    r"NewConnectionError|Max retries exceeded|Temporary failure in name resolution|Network is unreachable"
    r"|Connection refused|ConnectTimeout|ReadTimeout|ProxyError|Could not fetch URL|No matching distribution found",
)


def _python() -> Path:
    return VENV / "bin" / "python"


def _pip(args: list[str]) -> None:
    """Install into the venv; skip if the registry is unreachable, fail on anything else."""
    command = [str(_python()), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode == 0:
        return
    output = result.stdout + result.stderr
    shutil.rmtree(VENV, ignore_errors=True)
    if UNREACHABLE.search(output):
        reason = f"pip cannot reach the package registry to install {' '.join(args)}: {output.strip()[-400:]}"
        print(reason)
        pytest.skip(reason)
    pytest.fail(f"pip install {' '.join(args)} failed:\n{output}")


def tinybird_python() -> Path:
    """The cached venv's interpreter, building the venv first if it is missing or incomplete."""
    if READY.exists() and _python().exists():
        return _python()
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, timeout=120)
    for args in INSTALLS:
        _pip(args)
    READY.write_text("tinybird client venv for tests/emulator/test_tinybird_official_client.py\n")
    return _python()


def test_tinyb_client_runs_copy_populate_cancel_list_and_sql(emulator: EmulatorServer) -> None:
    python = tinybird_python()
    result = subprocess.run(
        [str(python), str(CHECK), emulator.url, emulator.token],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    print(result.stdout)
    assert result.returncode == 0, f"TinyB check failed:\n{result.stdout}\n{result.stderr}"
    assert "ALL TINYB CHECKS PASSED" in result.stdout
