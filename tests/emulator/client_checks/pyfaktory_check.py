"""Run inside the pyfaktory venv: pyfaktory's own producer and worker against the emulator.

Usage: python pyfaktory_check.py <faktory url with password> <result dir>

A pyfaktory Producer pushes two tracked jobs; a pyfaktory Consumer (its process pool and its
heartbeat thread included) fetches them: ``add`` succeeds (ACK), ``explode`` raises (FAIL, and
with retry 0 the job is dead). A third pyfaktory connection reads TRACK GET through pyfaktory's
raw command channel, which also checks that our bulk replies parse with pyfaktory's RESP code.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from pyfaktory import Client, Consumer, Job, Producer

RESULTS = Path(sys.argv[2])


def add(a: int, b: int) -> int:
    (RESULTS / "add").write_text(str(a + b))
    return a + b


def explode() -> None:
    raise RuntimeError("exploded on purpose")


def track(client: Client, jid: str) -> dict:
    raw = client._send_and_receive(f"TRACK GET {jid}\r\n")
    assert raw.startswith("$"), raw
    return json.loads(raw.split("\r\n", 1)[1])


def wait_for(client: Client, jid: str, state: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while (current := track(client, jid))["state"] != state:
        assert time.monotonic() < deadline, f"{jid} still {current} after {timeout}s"
        time.sleep(0.1)
    return current


def main() -> None:
    url = sys.argv[1]
    with Client(faktory_url=url, role="producer") as client:
        producer = Producer(client=client)
        assert producer.push(Job(jid="pyfaktory-add-1", jobtype="add", args=[1, 2], custom={"track": 1}))
        assert producer.push(Job(jid="pyfaktory-explode-1", jobtype="explode", args=[], retry=0, custom={"track": 1}))
        assert track(client, "pyfaktory-add-1")["state"] == "enqueued"
        info = client.info()
        assert info["faktory"]["queues"]["default"] == 2, info
    print("pushed two jobs with pyfaktory's Producer")

    worker = Client(faktory_url=url, role="consumer", worker_id="pyfaktory-check-worker", beat_period=1)
    worker.connect()
    consumer = Consumer(client=worker, queues=["default"], concurrency=1)
    consumer.register("add", add)
    consumer.register("explode", explode)
    threading.Thread(target=consumer.run, daemon=True).start()

    with Client(faktory_url=url, role="producer") as watcher:
        wait_for(watcher, "pyfaktory-add-1", "success")
        wait_for(watcher, "pyfaktory-explode-1", "dead")
    assert (RESULTS / "add").read_text() == "3"
    print("pyfaktory's Consumer fetched and acked one job, failed the other")
    time.sleep(1.5)  # let the heartbeat thread send at least one BEAT
    print("ALL PYFAKTORY CHECKS PASSED", flush=True)
    os._exit(0)  # pyfaktory's heartbeat thread and process pool never stop on their own


if __name__ == "__main__":
    main()
