"""`make airflow`: a local Airflow 3.3 with the example DAGs and the emulator, until Ctrl-C.

The same deployment the end-to-end suite drives (tests/e2e/deployment.py): api-server,
scheduler, dag-processor and triggerer as separate processes under a throw-away AIRFLOW_HOME,
plus the jobs emulator, all on loopback. Ctrl-C (or SIGTERM) stops every process, kills whatever
is left of them, and removes the home (``--keep`` keeps it, with every component's log).
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.deployment import USER, Deployment  # noqa: E402 - needs ROOT on sys.path
from tests.e2e.processes import free_port  # noqa: E402

DEFAULT_PORT = 8080
#: Jobs take long enough to watch in the UI: queued for a moment, then progress in steps.
JOB_DEFAULTS = {"duration": 12.0, "queue_seconds": 1.0, "progress": [25, 50, 75]}
APIS = ("tinybird", "acme", "keboola", "airbyte", "faktory")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="api-server port; 0 picks a free one")
    parser.add_argument("--keep", action="store_true", help="keep AIRFLOW_HOME (logs, DB) after stopping")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    signal.signal(signal.SIGTERM, _interrupt)
    port = _port(args.port)
    live = Deployment(api_port=port, e2e_dags=False)
    dag_ids = example_dag_ids()
    say(f"Starting Airflow in {live.home} (logs in {live.logs}) ...")
    code = 0
    try:
        live.start(dag_ids)
        assert live.emulator is not None
        for api in APIS:
            live.emulator.set_defaults(api, **JOB_DEFAULTS)
        say("")
        say(f"Airflow UI:  {live.url}")
        say(f"Login:       {USER} / {live.password}")
        say(f"Emulator:    {live.emulator.url} (the example DAGs' connections point here)")
        say("Stop:        Ctrl-C")
        _watch(live)
    except KeyboardInterrupt:
        say("\nStopping ...")
    except Exception as error:  # a component died: report it, then clean up all the same
        say(f"\n{error}")
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        for component in live.components.values():
            component.terminate()  # all at once; stop() then waits for each, and kills what is left
        killed = live.stop()
        left = live.live_processes()
        if killed:
            say(f"killed {len(killed)} leftover process(es)")
        if args.keep or left or code:
            say(f"AIRFLOW_HOME kept: {live.home}")
        else:
            shutil.rmtree(live.home, ignore_errors=True)
        say("Stopped." if not left else f"{left} process(es) survived")
    return code or (1 if left else 0)


def example_dag_ids() -> tuple[str, ...]:
    """Every ``dag_id="..."`` in example_dags/: what must be parsed before the URL is printed."""
    files = sorted((ROOT / "example_dags").glob("example_*.py"))
    return tuple(dag_id for path in files for dag_id in re.findall(r'dag_id="([^"]+)"', path.read_text()))


def _watch(live: Deployment) -> None:
    """Sleep until interrupted; fail when a component exits on its own."""
    while True:
        time.sleep(1)
        for component in live.components.values():
            if not component.running:
                raise RuntimeError(f"{component.name} exited:\n{component.log_tail()}")


def _port(wanted: int) -> int:
    if wanted == 0:
        return free_port()
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", wanted))
        except OSError:
            port = free_port()
            say(f"Port {wanted} is taken; using {port}")
            return port
    return wanted


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def say(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
