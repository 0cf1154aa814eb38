"""Ports of members."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from patron.domain.members import Consent, Member


@dataclass(frozen=True, slots=True)
class MemberFilter:
    external_id: str | None = None
    email_key: str | None = None
    phone: str | None = None
    card_number: str | None = None
    referral_code: str | None = None
    tier_code: str | None = None
    status: str | None = None


class MemberRepository(Protocol):
    def add(self, member: Member) -> None: ...
    def get(self, program_id: str, member_id: str) -> Member | None: ...
    def by_ids(self, program_id: str, member_ids: Sequence[str]) -> dict[str, Member]:
        """Those of these members that belong to the program, with their consents."""
        ...

    def find(
        self, program_id: str, where: MemberFilter, *, after: str | None, limit: int
    ) -> Sequence[Member]: ...
    def update(self, member: Member) -> None: ...
    def taken_identifiers(
        self, program_id: str, candidate: Member, *, exclude_id: str | None
    ) -> list[str]: ...
    def add_consents(self, member: Member, consents: Sequence[Consent]) -> None: ...
    def born_on(
        self, program_id: str, days: Sequence[tuple[int, int]], *, after: str | None, limit: int
    ) -> list[Member]:
        """Active or frozen members whose birthday (month, day) is one of ``days``."""
        ...
