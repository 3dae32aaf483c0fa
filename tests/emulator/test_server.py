"""``run_emulator`` starts on a free or given port and leaves nothing behind when it stops."""

from __future__ import annotations

import gc
import socket
import threading
import warnings

import pytest
import requests

from airflow_jobs_provider.emulator import DEFAULT_TOKEN, EmulatorServer, build_app, run_emulator


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _threads() -> set[threading.Thread]:
    return set(threading.enumerate())


def test_stops_cleanly_without_leaks(recwarn: pytest.WarningsRecorder) -> None:
    warnings.simplefilter("always", ResourceWarning)
    gc.collect()  # sockets other tests left unreachable are reported now, not during this test
    recwarn.clear()
    before = _threads()
    with run_emulator() as server, requests.Session() as http:
        http.trust_env = False
        assert server.token == DEFAULT_TOKEN
        assert http.get(f"{server.url}/v0/jobs", params={"token": DEFAULT_TOKEN}).status_code == 200
        port = int(server.url.rsplit(":", 1)[1])
    gc.collect()
    assert _threads() == before
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the listening socket must be closed"
    leaks = [str(w.message) for w in recwarn if issubclass(w.category, ResourceWarning) or "Unclosed" in str(w.message)]
    assert leaks == []


def test_serves_on_the_given_port_with_the_given_token() -> None:
    port = _free_port()
    with run_emulator(token="custom", port=port) as server, requests.Session() as http:
        http.trust_env = False
        assert server.url == f"http://127.0.0.1:{port}"
        assert http.get(f"{server.url}/v0/jobs", params={"token": "custom"}).status_code == 200
        assert http.get(f"{server.url}/v0/jobs", params={"token": DEFAULT_TOKEN}).status_code == 403


def test_a_busy_port_fails_at_start_and_leaves_no_thread(emulator: EmulatorServer) -> None:
    busy = int(emulator.url.rsplit(":", 1)[1])
    before = _threads()
    with pytest.raises(RuntimeError, match="could not start"), run_emulator(port=busy):
        pass
    assert _threads() == before


def test_empty_token_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty token"):
        build_app("")


def test_repr_hides_the_token(emulator: EmulatorServer) -> None:
    assert emulator.token not in repr(emulator)
    assert emulator.url in repr(emulator)
