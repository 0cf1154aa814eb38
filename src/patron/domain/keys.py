"""API keys: roles, the key format and hashing.

A key reads ``pat_<12 chars>_<52 chars>``. The first part (``pat_`` + 12 characters) is the
*prefix*: stored in clear, shown in listings and logs, and used to find the key's row. The whole
key is stored only as its SHA-256 digest. Keys carry 260 bits of randomness from a CSPRNG, so a
fast hash is enough (no password stretching is needed for random secrets); the digest is
compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

Role = Literal["platform", "admin", "pos", "partner", "read"]
PROGRAM_ROLES: tuple[str, ...] = ("admin", "pos", "partner", "read")
ALL_ROLES: tuple[str, ...] = get_args(Role)

KEY_PREFIX = "pat_"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    program_id: str | None
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None  # to the minute (``services.api_keys.TOUCH_EVERY``)


@dataclass(frozen=True, slots=True)
class NewKey:
    prefix: str
    secret: str  # the whole key, shown once
    digest: str


def _token(nbytes: int) -> str:
    return base64.b32encode(secrets.token_bytes(nbytes)).decode().rstrip("=").lower()


def generate_key() -> NewKey:
    prefix = KEY_PREFIX + _token(8)[:12]
    secret = f"{prefix}_{_token(32)}"
    return NewKey(prefix=prefix, secret=secret, digest=digest(secret))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def prefix_of(secret: str) -> str | None:
    """The prefix of a presented key, or None when it is not shaped like a Patron key."""
    if not secret.startswith(KEY_PREFIX):
        return None
    head, sep, _ = secret.rpartition("_")
    return head if sep and len(head) == len(KEY_PREFIX) + 12 else None


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)
