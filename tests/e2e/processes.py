"""Start and stop the deployment's processes so that nothing outlives the test session.

Every component runs in its own session (process group). Airflow's task supervisor moves each
task into a new process group of its own, so killing groups alone is not enough: on stop we
also kill every process that carries this deployment's private ``AIRFLOW_HOME`` in its
environment. That value is a fresh temp directory, so no other process on the machine can match.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from pathlib import Path

import psutil

STOP_GRACE = 10.0
"""Seconds a component gets to exit after SIGTERM before it is killed."""


def free_port() -> int:
    """A loopback port nothing listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Component:
    """One long-running process (scheduler, triggerer, emulator, ...) with its output in a log file."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        log_dir: Path,
        *,
        cwd: Path | None = None,
        user: str | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.cwd = cwd
        """Where it starts: the deployment's home, so the source tree is never on its ``sys.path``."""
        self.user = user
        """Run as this user (PostgreSQL refuses to run as root)."""
        self.stop_signal = stop_signal
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:  # appended: a restarted triggerer keeps one history
            log.write(f"\n==== starting {' '.join(self.argv)} ====\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=self.cwd, user=self.user,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill_hard(self) -> None:
        """SIGKILL the process and every descendant at once, as a crashed host would.

        Descendants are collected first: some (the triggerer's trigger runner, task processes)
        run in process groups of their own and would survive a group kill.
        """
        if self.process is None:
            return
        with _gone():
            family = [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children(recursive=True)]
            with _gone():
                os.killpg(self.process.pid, signal.SIGKILL)
            for proc in family:
                with _gone():
                    proc.kill()
            psutil.wait_procs(family, timeout=STOP_GRACE)
        self.process.wait(STOP_GRACE)

    def terminate(self) -> None:
        """SIGTERM the group without waiting: several components then stop in parallel (``stop`` waits)."""
        if self.process is not None and self.process.poll() is None:
            with _gone():
                os.killpg(self.process.pid, signal.SIGTERM)

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    def family(self) -> list[psutil.Process]:
        """The process and every live descendant (a worker's pool, its task supervisors and tasks)."""
        with _gone():
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        return []

    def stop(self) -> None:
        """Send the stop signal (SIGTERM) to the group, then SIGKILL it if it has not exited within STOP_GRACE."""
        self.signal_stop()
        self.wait_stopped()

    def signal_stop(self) -> None:
        """Ask it to stop; ``wait_stopped`` waits for it (so several components stop at once)."""
        if self.process is not None and self.process.poll() is None:
            with _gone():
                os.killpg(self.process.pid, self.stop_signal)

    def wait_stopped(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.kill_hard()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def processes_of(home: Path) -> list[psutil.Process]:
    """Live processes whose environment names ``home`` as AIRFLOW_HOME: all of them ours."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.pid != os.getpid() and proc.environ().get("AIRFLOW_HOME") == str(home):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def kill_leftovers(home: Path, timeout: float = STOP_GRACE) -> list[str]:
    """SIGKILL what is left of the deployment; returns a description of each leftover found."""
    leftovers = processes_of(home)
    described = []
    for proc in leftovers:
        with _gone():
            described.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
            proc.kill()
    psutil.wait_procs(leftovers, timeout=timeout)
    return described


def _gone() -> contextlib.suppress:
    """Ignore 'no such process': the process we meant to stop is already gone, which is the goal."""
    return contextlib.suppress(ProcessLookupError, psutil.NoSuchProcess, psutil.ZombieProcess)
