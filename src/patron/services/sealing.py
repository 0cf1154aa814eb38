"""Sealed secrets: values Patron must read back (a staff user's TOTP secret) are stored encrypted
with AES-256-GCM under a key derived (HKDF-SHA256) from the installation's secret, never in plain
text. A sealed value is ``v1.<nonce>.<ciphertext>`` in URL-safe base64."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sealer:
    def __init__(self, secret: str, *, purpose: str) -> None:
        self._aead = AESGCM(
            HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
                secret.encode()
            )
        )
        self._purpose = purpose.encode()

    def seal(self, value: str) -> str:
        nonce = os.urandom(12)
        return f"v1.{_b64(nonce)}.{_b64(self._aead.encrypt(nonce, value.encode(), self._purpose))}"

    def open(self, sealed: str) -> str:
        version, nonce, body = sealed.split(".")
        if version != "v1":
            raise ValueError(f"unknown sealed value version {version!r}")
        return self._aead.decrypt(_unb64(nonce), _unb64(body), self._purpose).decode()
