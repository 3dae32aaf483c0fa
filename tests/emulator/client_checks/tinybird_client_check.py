"""Drive the emulator with Tinybird's own Python client (``TinyB``) and check every answer.

Run by the interpreter of a venv holding the ``tinybird`` package (its pins clash with
Airflow, so it cannot live in our venv):

    python tinybird_client_check.py http://127.0.0.1:PORT TOKEN

Exits 0 when the emulator behaves as the client expects, non-zero with the first mismatch.
Only the stdlib and the tinybird package are used; the emulator is scripted over HTTP.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from typing import Any

try:  # current releases ship the client under tinybird.tb, older ones at the top level
    from tinybird.tb import client as tb_client
except ImportError:  # pragma: no cover - depends on the installed release
    from tinybird import client as tb_client  # type: ignore[no-redef]

TinyB = tb_client.TinyB
POLL = {"backoff_seconds": 0.05, "maximum_backoff_seconds": 0.05}


class Mismatch(Exception):
    """The emulator answered something the real API would not."""


def expect(condition: bool, message: str, got: Any = None) -> None:
    if not condition:
        raise Mismatch(f"{message} (got: {got!r})")


def expect_raises(exc_type: type[BaseException], text: str, call: Any) -> None:
    try:
        call()
    except exc_type as error:
        expect(text in str(error), f"{exc_type.__name__} should mention {text!r}", str(error))
        return
    raise Mismatch(f"expected {exc_type.__name__} mentioning {text!r}")


class Control:
    """The emulator's control endpoint (no auth, JSON in and out)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def get(self, path: str) -> Any:
        return self._send(urllib.request.Request(f"{self.url}/_emulator/{path}"))

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.url}/_emulator/{path}",
            data=json.dumps(body or {}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        return self._send(request)

    def _send(self, request: urllib.request.Request) -> Any:
        with self.opener.open(request, timeout=10) as response:
            return json.loads(response.read())

    def script(self, **fields: Any) -> None:
        self.post("script", {"api": "tinybird", **fields})


def wait_until(check: Any, what: str, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise Mismatch(f"timed out waiting for {what}")


def check_copy_lifecycle(tb: Any, control: Control) -> str:
    control.script(outcome="succeeded", queue_seconds=0.1, duration=0.6, progress=[25, 75])
    created = tb.pipe_run("sales_by_day", "copy", params={"day": "2024-01-01"}, mode="append")
    job_id = created["id"]
    expect(created["job"]["job_id"] == job_id, "copy: job.job_id equals id", created)
    expect(created["job"]["job_url"].endswith(f"/v0/jobs/{job_id}"), "copy: job.job_url", created)
    expect(created["status"] == "waiting", "copy: created waiting", created["status"])
    expect(created["job"]["is_cancellable"] is True, "copy: new job cancellable", created["job"])

    job = tb.job(job_id)
    expect(job["kind"] == "copy" and job["pipe_name"] == "sales_by_day", "copy: detail kind/pipe", job)
    expect(job["status"] in ("waiting", "working"), "copy: still running", job["status"])

    seen: list[tuple[str, Any]] = []

    def record(res: dict[str, Any]) -> None:
        seen.append((res["status"], res.get("progress_percentage")))

    done = tb.wait_for_job(job_id, status_callback=record, **POLL)
    expect(done["status"] == "done" and done["progress_percentage"] == 100.0, "copy: done at 100%", done)
    expect(done["started_at"] is not None, "copy: started_at set", done)
    expect(("working", 25.0) in seen and ("working", 75.0) in seen, "copy: both progress steps seen", seen)
    print(f"ok copy lifecycle: {len(seen)} polls, statuses {sorted({status for status, _ in seen})}")
    return job_id


def check_cancel_waiting(tb: Any, control: Control) -> str:
    control.script(queue_seconds=30, duration=1)
    created = tb.populate_node("mv_pipe", "mv_node", populate_condition="day > 1", truncate=True)
    job_id = created["job"]["id"]
    expect(created["job"]["kind"] == "populateview", "populate: kind", created["job"])
    cancelled = tb.job_cancel(job_id)
    expect(cancelled["status"] == "cancelled", "cancel waiting: cancelled at once", cancelled)
    not_cancellable = tb_client.OperationCanNotBePerformed
    expect_raises(not_cancellable, "Job is not in cancellable status", lambda: tb.job_cancel(job_id))
    print("ok cancel of a waiting populate job")
    return job_id


def check_cancel_working_populate(tb: Any, control: Control) -> str:
    control.script(queue_seconds=0, duration=30, progress=[10, 20])
    job_id = tb.populate_node("mv_pipe", "mv_node")["job"]["id"]
    wait_until(lambda: tb.job(job_id)["status"] == "working", "populate to work")
    cancelling = tb.job_cancel(job_id)
    expect(cancelling["status"] == "cancelling", "cancel working populate: cancelling", cancelling)
    expect_raises(tb_client.OperationCanNotBePerformed, "Job is already being cancelled", lambda: tb.job_cancel(job_id))
    expect_raises(tb_client.JobException, "Job has been cancelled", lambda: tb.wait_for_job(job_id, **POLL))
    print("ok cancel of a working populate job (cancelling -> cancelled)")
    return job_id


def check_failed_import(tb: Any, control: Control) -> None:
    control.script(outcome="failed", error="Bad CSV header", queue_seconds=0, duration=0)
    expect_raises(
        tb_client.JobException,
        "Bad CSV header",
        lambda: tb.datasource_create_from_url("events", "https://example.com/e.csv"),
    )
    print("ok failed URL import raises the scripted error")


def check_lists_and_log(tb: Any, copy_id: str, all_ids: list[str]) -> None:
    listed = [job["id"] for job in tb.jobs()]
    expect(sorted(listed) == sorted(all_ids), "list: every job", listed)
    expect(listed[-1] == copy_id, "list: newest first (the copy job is the oldest)", listed)
    expect([job["id"] for job in tb.jobs(status=("done",), kind=("copy",))] == [copy_id], "list: filters", listed)
    answer = tb.query(f"SELECT job_id, job_type, status FROM tinybird.jobs_log WHERE job_id = '{copy_id}' FORMAT JSON")
    expect(answer["data"] == [{"job_id": copy_id, "job_type": "copy", "status": "done"}], "jobs_log row", answer)
    expect([column["name"] for column in answer["meta"]] == ["job_id", "job_type", "status"], "jobs_log meta", answer)
    print(f"ok list ({len(listed)} jobs, filters) and jobs_log SQL")


def check_errors(tb: Any, url: str) -> None:
    missing = 'Job with id "no-such-job" not found'
    expect_raises(tb_client.DoesNotExistException, missing, lambda: tb.job("no-such-job"))
    wrong_client = TinyB("wrong-token", host=url)
    expect_raises(tb_client.AuthException, "invalid authentication token", wrong_client.jobs)
    print("ok 404 and 403 errors")


def main(url: str, token: str) -> None:
    control = Control(url)
    control.post("reset")
    tb = TinyB(token, host=url)
    copy_id = check_copy_lifecycle(tb, control)
    waiting_id = check_cancel_waiting(tb, control)
    working_id = check_cancel_working_populate(tb, control)
    check_failed_import(tb, control)
    import_id = next(job["id"] for job in control.get("jobs") if job["kind"] == "import")
    check_lists_and_log(tb, copy_id, [copy_id, waiting_id, working_id, import_id])
    check_errors(tb, url)
    log = json.dumps(control.get("requests"))
    expect(token not in log, "access log never holds the token", log)
    expect("token=***" in log, "TinyB sends the token in the query string, redacted in the log", log)
    print("ALL TINYB CHECKS PASSED")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: tinybird_client_check.py EMULATOR_URL TOKEN")
    try:
        main(sys.argv[1], sys.argv[2])
    except Mismatch as mismatch:
        sys.exit(f"MISMATCH: {mismatch}")
