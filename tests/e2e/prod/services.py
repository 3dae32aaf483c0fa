"""Throwaway PostgreSQL and Redis servers for one deployment: private data dirs, free loopback ports.

Both come from Debian's packages (``make e2e-system`` installs ``postgresql`` and ``redis-server``
when missing). Neither is the machine's service: each runs in the foreground as a Component of
the deployment, so the suite starts it, stops it and cleans up after it like the Airflow processes.

PostgreSQL refuses to run as root, so when the suite is root the cluster belongs to ``nobody``
(its folder under the deployment's home is ``nobody``'s, and the home is made traversable).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from tests.e2e.processes import Component, free_port
from tests.support.polling import poll_until

DB_USER = DB_NAME = "airflow"
START_TIMEOUT = 60.0


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin folder (Debian keeps it off PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError("PostgreSQL is not installed: `make e2e-system` installs it (apt-get install postgresql)")


def service_user() -> str | None:
    """Who runs PostgreSQL: ``nobody`` when we are root, else ourselves."""
    return "nobody" if os.geteuid() == 0 else None


class Postgres:
    """A cluster made by ``initdb`` in ``root/data``, served by ``postgres`` on a free port (trust auth, TCP only)."""

    def __init__(self, root: Path, logs: Path, env: dict[str, str]) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.bin = postgres_bin()
        self.user = service_user()
        self.env = {**env, "LC_ALL": "C", "LANG": "C"}
        argv = [
            str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1", "-k", "",
            # a throwaway cluster: durability buys nothing here, and 2 shared cores are slow to fsync
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=300",
        ]  # fmt: skip
        # SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to disconnect.
        self.component = Component(
            "postgres", argv, self.env, logs, cwd=root, user=self.user, stop_signal=signal.SIGINT
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{DB_USER}@127.0.0.1:{self.port}/{DB_NAME}"

    def start(self) -> None:
        self.root.mkdir()
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        initdb = [
            str(self.bin / "initdb"), "-D", str(self.data), "-U", DB_USER, "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        ]  # fmt: skip
        done = subprocess.run(
            initdb, env=self.env, cwd=self.root, user=self.user, capture_output=True, text=True, timeout=START_TIMEOUT
        )
        if done.returncode:
            raise RuntimeError(f"initdb failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        self.component.start()
        poll_until(self._accepts, timeout=START_TIMEOUT, interval=0.2, what="PostgreSQL to accept connections")
        self.execute(f"CREATE DATABASE {DB_NAME}", database="postgres")

    def _accepts(self) -> bool:
        if not self.component.running:
            raise RuntimeError(f"postgres exited:\n{self.component.log_tail()}")
        try:
            self.query("SELECT 1", database="postgres")
        except Exception:  # psycopg2.OperationalError until it listens
            return False
        return True

    def connect(self, database: str = DB_NAME):  # type: ignore[no-untyped-def]
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=DB_USER, dbname=database, connect_timeout=5
        )
        connection.autocommit = True
        return connection

    def query(self, sql: str, params: tuple[object, ...] = (), database: str = DB_NAME) -> list[tuple[object, ...]]:
        connection = self.connect(database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall()) if cursor.description else []
        finally:
            connection.close()

    def execute(self, sql: str, database: str = DB_NAME) -> None:
        self.query(sql, database=database)


class Redis:
    """A private ``redis-server`` on a free loopback port, with nothing saved to disk."""

    def __init__(self, root: Path, logs: Path, env: dict[str, str]) -> None:
        self.root = root
        self.port = free_port()
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        argv = [
            server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(root), "--daemonize", "no",
        ]  # fmt: skip
        self.component = Component("redis", argv, env, logs, cwd=root)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if not Path(self.component.argv[0]).exists():
            raise RuntimeError("redis-server is missing: `make e2e-system` installs it (apt-get install redis-server)")
        self.root.mkdir()
        self.component.start()
        poll_until(self._pong, timeout=START_TIMEOUT, interval=0.2, what="Redis to answer PING")

    def _pong(self) -> bool:
        if not self.component.running:
            raise RuntimeError(f"redis-server exited:\n{self.component.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False
