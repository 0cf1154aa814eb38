"""Port of the member portal's one-time links, sessions and sign-in requests (program-scoped)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from patron.domain.portal import PortalLink, PortalSession


class PortalRepository(Protocol):
    def add_link(self, link: PortalLink, digest: str) -> None: ...
    def link(self, program_id: str, digest: str) -> PortalLink | None: ...
    def use_link(self, link_id: str, at: datetime) -> bool:
        """Mark the link used; False when it already was (a concurrent use won)."""
        ...

    def add_session(self, session: PortalSession, digest: str) -> None: ...
    def session(self, program_id: str, digest: str) -> PortalSession | None: ...
    def end_session(self, session_id: str, at: datetime) -> None: ...
    def end_member(self, program_id: str, member_id: str, at: datetime) -> int:
        """Revoke the member's live sessions and spend its unused links; how many."""
        ...

    def add_request(self, request_id: str, program_id: str, email_key: str, at: datetime) -> None:
        """Record that a sign-in link was asked for at the sign-in page for this email."""
        ...

    def forget_requests(self, program_id: str, email_key: str) -> int:
        """Delete the sign-in requests still waiting for this email (erasure); how many."""
        ...

    def take_requests(self, program_id: str, limit: int) -> list[str]:
        """Delete up to ``limit`` of the program's oldest sign-in requests and return their
        email keys, oldest first; requests another transaction holds are left to it."""
        ...
