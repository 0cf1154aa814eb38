"""Ports of tiers: held tiers and their changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from patron.domain.tiers import Grant


@dataclass(frozen=True, slots=True)
class HeldTier:
    member_id: str
    code: str
    since: datetime
    until: datetime | None
    cause: str
    best_ever: str | None


@dataclass(frozen=True, slots=True)
class TierChange:
    id: str
    program_id: str
    member_id: str
    at: datetime
    from_code: str | None
    to_code: str
    cause: str
    reference: str | None = None
    reason: str | None = None
    actor: str | None = None


class TierRepository(Protocol):
    def held(self, member_id: str) -> HeldTier | None: ...
    def held_many(self, member_ids: Sequence[str]) -> dict[str, HeldTier]: ...
    def hold(self, program_id: str, tier: HeldTier) -> None:
        """Store the member's tier (and mirror its code on the member for lookups)."""
        ...

    def add_change(self, change: TierChange) -> None: ...
    def history(self, member_id: str) -> list[TierChange]: ...
    def grants(self, member_id: str) -> list[Grant]: ...
    def add_grant(
        self, program_id: str, member_id: str, grant: Grant, reason: str, actor: str, at: datetime
    ) -> None: ...
    def due(
        self,
        program_id: str,
        now: datetime,
        *,
        open_ended_above: str | None,
        after: str | None,
        limit: int,
    ) -> list[str]:
        """Members whose tier lapses by ``now``, and, when ``open_ended_above`` names the base
        level, those holding a higher level without an end date (rolling windows)."""
        ...
