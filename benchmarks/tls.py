"""A throwaway certificate authority for the HTTPS runs of the benchmark (``trustme``).

Every real jobs API is served over HTTPS, so a watcher pays TLS: a keep-alive session pays one
handshake per connection, a session per poll pays one per poll. The CA and the emulator's
certificate live in a temporary directory for one benchmark run and are never trusted elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    """The CA certificate (PEM) the watchers trust: the connections' ``verify`` extra."""
    cert_chain: Path
    key: Path


def make_tls_files(directory: Path) -> TlsFiles:
    """A new CA and a certificate for 127.0.0.1 signed by it, written as PEM files in ``directory``."""
    import trustme

    authority = trustme.CA()
    server = authority.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(directory / "bench-ca.pem", directory / "bench-server-chain.pem", directory / "bench-server.key")
    authority.cert_pem.write_to_path(str(files.ca))
    server.private_key_pem.write_to_path(str(files.key))
    with files.cert_chain.open("wb") as chain:
        for blob in server.cert_chain_pems:
            chain.write(blob.bytes())
    return files
