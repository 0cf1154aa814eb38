"""The member portal's one-time sign-in links and sessions (SPEC §10, docs/portal.md).

A link or a session is known to storage only by the SHA-256 digest of its random token; the
token itself lives in the member's email or cookie. Both belong to one member of one program.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

LinkSource = Literal["email", "sso", "console"]

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class PortalLink:
    id: str
    program_id: str
    member_id: str
    source: LinkSource
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    return_url: str | None = None


@dataclass(frozen=True, slots=True)
class PortalSession:
    id: str
    program_id: str
    member_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at
