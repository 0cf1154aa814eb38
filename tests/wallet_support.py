"""Certificates and keys for wallet pass tests, made by the tests: a root CA standing in for
Apple's, a "WWDR" intermediate it issues, and a pass certificate the intermediate issues; a
Google service-account key file; and a CA with a server certificate for 127.0.0.1, for the
HTTPS stand-in of Apple's push service. Made once per test session (RSA keys take a moment)."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

PASS_TYPE_ID = "pass.com.example.shop"
TEAM_ID = "ABCDE12345"
ISSUER_ID = "3388000000012345678"
CLIENT_EMAIL = "wallet@shop-project.iam.gserviceaccount.com"


@dataclass(frozen=True)
class Chain:
    ca_pem: str
    wwdr_pem: str
    cert_pem: str
    key_pem: str
    key: rsa.RSAPrivateKey
    cert: x509.Certificate


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test"),
        ]
    )


def _cert(
    subject: str,
    issuer: x509.Name,
    public: rsa.RSAPublicKey,
    signer: rsa.RSAPrivateKey,
    *,
    ca: bool,
    days: int = 365,
) -> x509.Certificate:
    now = datetime.now(UTC) - timedelta(days=1)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key(size: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


@cache
def chain(*, days: int = 365) -> Chain:
    root_key, wwdr_key, pass_key = _key(), _key(), _key()
    root = _cert("Test Root CA", _name("Test Root CA"), root_key.public_key(), root_key, ca=True)
    wwdr = _cert("Test WWDR", root.subject, wwdr_key.public_key(), root_key, ca=True)
    cert = _cert(
        f"Pass Type ID: {PASS_TYPE_ID}", wwdr.subject, pass_key.public_key(), wwdr_key, ca=False,
        days=days,
    )  # fmt: skip
    key_pem = pass_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret"),
    ).decode()
    return Chain(_pem(root), _pem(wwdr), _pem(cert), key_pem, pass_key, cert)


@cache
def service_account() -> tuple[str, rsa.RSAPrivateKey]:
    key = _key()
    document = {
        "type": "service_account",
        "project_id": "shop-project",
        "private_key_id": "abc123",
        "private_key": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "client_email": CLIENT_EMAIL,
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return json.dumps(document), key


def apple_body(**changes: Any) -> dict[str, Any]:
    made = chain()
    return {
        "pass_type_id": PASS_TYPE_ID,
        "team_id": TEAM_ID,
        "certificate_pem": made.cert_pem,
        "private_key_pem": made.key_pem,
        "key_password": "s3cret",
        "wwdr_pem": made.wwdr_pem,
        **changes,
    }


def google_body(**changes: Any) -> dict[str, Any]:
    return {"issuer_id": ISSUER_ID, "service_account_json": service_account()[0], **changes}


def wallet_body() -> dict[str, Any]:
    return {"apple": apple_body(), "google": google_body()}


@dataclass(frozen=True)
class ServerChain:
    """A CA and a TLS server certificate it issued for 127.0.0.1 (a local HTTPS stand-in)."""

    ca_pem: str
    cert_pem: str
    key_pem: str


@cache
def server_chain() -> ServerChain:
    ca_key, server_key = _key(), _key()
    ca = _cert("Test Server CA", _name("Test Server CA"), ca_key.public_key(), ca_key, ca=True)
    now = datetime.now(UTC) - timedelta(days=1)
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = server_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return ServerChain(_pem(ca), _pem(server), key_pem)


def pass_key_pem() -> str:
    """The pass certificate's key unencrypted, as the wallet job hands it to the pusher."""
    return (
        chain()
        .key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
