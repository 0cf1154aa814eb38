"""Ports of privacy exports and erasure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """One stored copy that may hold a member's personal data: a JSON or text column of a row."""

    table: str
    row: str  # the row's primary key
    column: str
    value: Any
    profile: bool = False  # a member profile snapshot (the audit trail's before/after)


@dataclass(frozen=True, slots=True)
class Tombstone:
    member_id: str
    erased_at: datetime
    matched: tuple[str, ...]  # which digests matched: email, phone, external_id


class PrivacyRepository(Protocol):
    def member_records(self, program_id: str, member_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every row about the member, by section (consents, entries, lots, purchases, ...)."""
        ...

    def claim_erasure(self, program_id: str, member_id: str, at: datetime) -> bool:
        """Mark the member erased (locking its row); False when it already was."""
        ...

    def documents(
        self, program_id: str, member_id: str, needles: Sequence[str]
    ) -> list[StoredDocument]:
        """Stored documents of the member's rows, and any of the program's facts and audit
        records whose text contains the member id or one of ``needles``."""
        ...

    def rewrite(self, document: StoredDocument, value: Any) -> None: ...
    def forget_consents(self, member_id: str) -> None: ...
    def forget_responses(self, program_id: str, needles: Sequence[str]) -> int:
        """Delete remembered idempotent responses (of the program's keys and platform keys)
        whose body contains one of ``needles``; returns how many."""
        ...

    def secret(self, program_id: str, at: datetime, *, create: bool) -> str | None:
        """The program's digest key (made on first use when ``create``)."""
        ...

    def add_tombstone(
        self, program_id: str, member_id: str, at: datetime, actor: str, digests: dict[str, str]
    ) -> None: ...
    def tombstone(self, member_id: str) -> Tombstone | None: ...
    def find_tombstone(self, program_id: str, digests: dict[str, str]) -> Tombstone | None: ...
