"""`make airflow` (scripts/local_airflow.py): it prints a URL and a login that work, and Ctrl-C
stops every process it started and removes its home.

Ctrl-C is sent the way a terminal sends it: SIGINT to the script's whole process group. The
Airflow components run in sessions of their own, so only the script sees the signal and must
stop them itself.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.e2e.airflow_api import AirflowApi
from tests.e2e.deployment import ROOT, START_TIMEOUT, _base_env
from tests.e2e.processes import kill_leftovers, processes_of
from tests.support.polling import poll_until

pytestmark = pytest.mark.e2e
STOP_TIMEOUT = 60.0


class Output:
    """The script's output, read on a thread so that a full pipe never blocks it."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def field(self, pattern: str) -> str | None:
        found = re.search(pattern, self.text)
        return found.group(1) if found else None


def test_make_airflow_prints_a_working_login_and_stops_on_ctrl_c():
    argv = [sys.executable, str(ROOT / "scripts" / "local_airflow.py"), "--port", "0"]
    script = subprocess.Popen(
        argv, cwd=ROOT, env=_base_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # a group of its own, as a shell job in a terminal
    )
    output = Output(script)
    home: Path | None = None
    try:
        poll_until(
            lambda: script.poll() is not None or "Stop:" in output.text,
            timeout=START_TIMEOUT,
            interval=0.5,
            what="make airflow to print its URL",
            describe=lambda _: output.text[-2000:],
        )
        assert script.poll() is None, output.text
        home = Path(output.field(r"Starting Airflow in (\S+)") or "")
        url = output.field(r"Airflow UI:\s+(\S+)")
        login = output.field(r"Login:\s+(\S+ / \S+)")
        assert url and login, output.text
        username, password = login.split(" / ")
        api = AirflowApi(url, (username, password))
        api.sign_in()
        assert api.dag_is_loaded("example_tinybird_copy")
        assert not api.dag_is_loaded("e2e_watch")  # the example DAGs only
        assert len(processes_of(home)) >= 5  # api-server, scheduler, dag-processor, triggerer, emulator

        os.killpg(script.pid, signal.SIGINT)
        assert script.wait(STOP_TIMEOUT) == 0, output.text
        assert "Stopped." in output.text
        assert processes_of(home) == []
        assert not home.exists()
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
            script.wait(STOP_TIMEOUT)
        if home is not None and home.exists():
            kill_leftovers(home)
