"""Ports of the console's member reads: search, and what the member's page shows that no use
case reads (consent history, purchases and redemptions of one member, newest first).

Each method is one statement, whatever the member holds, so a page costs a fixed number of
queries (``services.member_search``, ``services.member_profile``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from patron.domain.members import Member
from patron.services.ports.purchases import StoredPurchase, StoredRefund
from patron.services.ports.rewards import Redemption

IDENTIFIER_COLUMNS = ("id", "external_id", "email_key", "phone", "card_number", "referral_code")
"""The member columns an identifier search compares, exactly."""


@dataclass(frozen=True, slots=True)
class NameQuery:
    """Name prefixes, each a ``name_key``: a member matches when every word prefixes its first
    or its last name key, or ``whole`` (the words joined) prefixes its full or last name key
    (so a name of several words, "van der berg", is found as typed)."""

    words: tuple[str, ...]

    @property
    def whole(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    channel: str
    granted: bool
    recorded_at: datetime
    source: str


class MemberReads(Protocol):
    def holding(
        self, program_id: str, identifiers: Sequence[tuple[str, str]], *, limit: int
    ) -> list[Member]:
        """Members holding any of these (column of ``IDENTIFIER_COLUMNS``, value), by id."""
        ...

    def named(
        self, program_id: str, query: NameQuery, *, after: str | None, limit: int
    ) -> list[Member]:
        """Members (never erased ones) whose names match, by full name key then id, after the
        member ``after`` in that order."""
        ...

    def count_named(self, program_id: str, query: NameQuery, *, cap: int) -> int:
        """How many members ``named`` finds, counting no further than ``cap``."""
        ...

    def newest(self, program_id: str, *, before: str | None, limit: int) -> list[Member]:
        """Members newest first (by id, which orders by creation), before the member ``before``."""
        ...

    def count(self, program_id: str, *, cap: int) -> int:
        """How many members the program has, counting no further than ``cap``."""
        ...

    def consent_history(self, member_id: str) -> list[ConsentRecord]:
        """Every consent record of the member, newest first."""
        ...

    def purchases(self, program_id: str, member_id: str, *, limit: int) -> list[StoredPurchase]:
        """The member's purchases, newest first (by when they happened)."""
        ...

    def refunds_of(self, purchase_ids: Sequence[str]) -> list[StoredRefund]:
        """The refunds of these purchases, oldest first."""
        ...

    def redemptions(self, program_id: str, member_id: str, *, limit: int) -> list[Redemption]:
        """The member's redemptions, newest first."""
        ...
