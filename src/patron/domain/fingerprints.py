"""Request fingerprints: what an idempotency key or a business key was first sent with.

Patron keeps, beside each idempotency key and each purchase, refund, event and grant, a
fingerprint of the request that used it, to tell a replay (same fingerprint) from a conflict
(another request under the same key). The body it digests can hold personal data (a member
named by email), and a stored fingerprint outlives the member's erasure. An unsalted digest of
the body would let anyone who reads the database confirm a guessed email by hashing guesses; so
the stored fingerprint is a keyed digest:

    "k1:" + base64url(HMAC-SHA256(secret, sha256_hex(method " " path "\\n" canonical_json)))

with ``secret`` the server's ``PATRON_FINGERPRINT_SECRET``, which is not in the database.

The inner SHA-256 is the fingerprint Patron stored before the key existed, so migration 0020
turns each stored one into exactly what is computed now (``keyed(secret, old)``) without the
bodies: a request sent before the migration replays after it. The ``k1:`` marker tells keyed
fingerprints from unkeyed ones (64 hex digits), so the migration never keys one twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

import orjson

VERSION = "k1:"

DEVELOPMENT_SECRET = "patron-development-fingerprint-secret"  # noqa: S105 (public on purpose)
"""The secret when none is configured, outside production: known to everyone, so it protects
nothing. Production refuses to start without ``PATRON_FINGERPRINT_SECRET``."""


@dataclass(frozen=True, slots=True)
class Fingerprints:
    """Fingerprints of requests with the server's secret, given once by the composition root
    (the unit-of-work factory carries it: ``uow_factory.fingerprint(method, path, body)``)."""

    secret: str = field(default=DEVELOPMENT_SECRET, repr=False)

    def __call__(self, method: str, path: str, body: Any) -> str:
        """The stored fingerprint of a request, independent of JSON formatting and key order."""
        return keyed(self.secret, unkeyed(method, path, body))


def unkeyed(method: str, path: str, body: Any) -> str:
    """The SHA-256 of the canonical request: what was stored before keys existed."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def keyed(secret: str, digest: str) -> str:
    """The stored form of an unkeyed fingerprint ``digest`` (a SHA-256 hex digest)."""
    mac = hmac.new(secret.encode(), digest.encode(), hashlib.sha256).digest()
    return VERSION + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def is_unkeyed(stored: str) -> bool:
    """A fingerprint stored before keys existed: 64 hex digits."""
    return len(stored) == 64 and all(c in "0123456789abcdef" for c in stored)
