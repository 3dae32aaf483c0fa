"""``tcp+tls://`` connections, sync and async, through a TLS front for the emulator's Faktory port.

The front terminates TLS with a throw-away self-signed certificate and forwards the bytes, the
way a TLS proxy in front of a real Faktory would; the client side is the provider's own code.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from airflow_jobs_provider.exceptions import JobsConfigError
from airflow_jobs_provider.hooks.jobs import JobsHook
from airflow_jobs_provider.hooks.retry import RetryPolicy
from tests.conftest import TOKEN


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "faktory-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class TlsFront(threading.Thread):
    """Accepts TLS on a free loopback port and pipes each connection to the plain upstream port."""

    def __init__(self, upstream_port: int, context: ssl.SSLContext) -> None:
        super().__init__(daemon=True)
        self.upstream_port, self.context = upstream_port, context
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._pipe, "127.0.0.1", 0, ssl=self.context))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()
        server.close()
        self.loop.run_until_complete(server.wait_closed())
        self.loop.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def copy(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                target.write(data)
                await target.drain()
            target.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer), return_exceptions=True)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.join(5)


@pytest.fixture
def tls_faktory(live: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Sets connection ``jobs_faktory_tls`` (extra ``verify`` given per test) to the TLS front; yields a setter."""
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    front = TlsFront(urlsplit(live.faktory_url).port or 0, context)
    front.start()
    assert front.ready.wait(10)

    def use(**extra: Any) -> str:
        connection = {
            "conn_type": "jobs",
            "host": f"127.0.0.1:{front.port}",
            "password": TOKEN,
            "extra": {"api": "faktory", "tls": True, **extra},
        }
        monkeypatch.setenv("AIRFLOW_CONN_JOBS_FAKTORY_TLS", json.dumps(connection))
        return str(cert)

    yield use
    front.stop()


def hook() -> JobsHook:
    return JobsHook("jobs_faktory_tls", retry_policy=RetryPolicy(max_attempts=1))


def test_sync_hook_over_tls_trusting_the_servers_ca_bundle(live, tls_faktory):
    tls_faktory(verify=tls_faktory())
    jobs = hook()
    assert jobs.settings.base_url.startswith("tcp+tls://")
    jid = jobs.start_job({"jobtype": "Report"}).job_id
    assert jobs.get_job(jid).raw_status == "enqueued"
    assert [job["id"] for job in live.jobs("faktory")] == [jid]


async def test_async_hook_over_tls(live, tls_faktory):
    tls_faktory(verify=tls_faktory())
    live.script("faktory", outcome="succeeded", queue_seconds=5)
    jid = hook().start_job({"jobtype": "Report"}).job_id
    async with JobsHook("jobs_faktory_tls") as jobs:
        assert (await jobs.aget_job(jid)).raw_status == "enqueued"


def test_an_untrusted_certificate_is_a_config_error_that_names_verify(tls_faktory):
    tls_faktory()  # verify defaults to true: the system CAs do not know our certificate
    with pytest.raises(JobsConfigError, match=r"is not trusted .* set extra 'verify'"):
        hook().get_job("some-jid-1")


async def test_an_untrusted_certificate_fails_the_trigger_path_the_same_way(tls_faktory):
    tls_faktory()
    with pytest.raises(JobsConfigError, match="is not trusted"):
        async with JobsHook("jobs_faktory_tls") as jobs:
            await jobs.aget_job("some-jid-1")


def test_verify_false_skips_the_check(tls_faktory):
    tls_faktory(verify=False)
    assert hook().get_job("some-jid-1").raw_status == "unknown"
