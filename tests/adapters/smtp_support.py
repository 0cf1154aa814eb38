"""A real SMTP server on loopback for the transport tests (``aiosmtpd``): it records every
message with the connection it came on, answers 451 to recipients starting with ``defer`` and
550 to those starting with ``reject``, and can drop connections on demand (all of them now, or
the next MAIL commands after some messages were accepted), as an idle timeout or a crash would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    peer: Any


@dataclass
class Recorder:
    received: list[Received] = field(default_factory=list)
    protocols: list[Any] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    drop_after: int = 0
    """Start dropping MAIL commands once this many messages were accepted..."""
    drops: int = 0
    """...this many of them (each closes its connection instead of answering)."""

    @property
    def connections(self) -> int:
        return len({r.peer for r in self.received})

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.drops and len(self.received) >= self.drop_after:
            self.drops -= 1
            server.transport.close()
            return "421 closing"  # never reaches the client: the connection is gone
        if server not in self.protocols:
            self.protocols.append(server)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("defer"):
            return "451 4.3.0 mailbox busy, try later"
        if address.startswith("reject"):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.peer)
        )
        return f"250 2.0.0 queued as Q{len(self.received)}"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"p:ss w@rd", handled=False)


@dataclass
class SmtpServer:
    controller: Controller
    recorder: Recorder
    port: int

    def drop_connections(self) -> None:
        """Close every connection the server holds (as an idle timeout would)."""
        done = asyncio.run_coroutine_threadsafe(self._close_all(), self.controller.loop)
        done.result(5)
        time.sleep(0.05)

    async def _close_all(self) -> None:
        for protocol in self.recorder.protocols:
            if protocol.transport is not None:
                protocol.transport.close()
        self.recorder.protocols.clear()


@contextmanager
def smtp_server(**options: Any) -> Iterator[SmtpServer]:
    recorder = Recorder()
    port = free_port()
    if options.pop("auth", False):
        options.update(authenticator=recorder.authenticate, auth_require_tls=False)
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield SmtpServer(controller, recorder, port)
    finally:
        controller.stop()


def self_signed(directory: Path) -> ssl.SSLContext:
    """A server TLS context with a certificate for 127.0.0.1 signed by itself."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "patron-test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context
