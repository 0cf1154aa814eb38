"""Ports of referrals, segments, bulk grants and campaigns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Referral:
    id: str
    program_id: str
    referrer_id: str
    referee_id: str
    status: str  # pending, completed, refused, reversed
    reason: str | None
    purchase: str | None
    created_at: datetime
    completed_at: datetime | None = None


class ReferralRepository(Protocol):
    def add(self, referral: Referral) -> None: ...
    def update(self, referral: Referral) -> None: ...
    def of_referee(self, referee_id: str) -> Referral | None: ...
    def of_referrer(self, referrer_id: str) -> list[Referral]: ...


@dataclass(frozen=True, slots=True)
class Segment:
    id: str
    program_id: str
    code: str
    name: str
    filter: dict[str, Any]
    created_at: datetime


class SegmentRepository(Protocol):
    def add(self, segment: Segment) -> None: ...
    def get(self, program_id: str, code: str) -> Segment | None: ...
    def all(self, program_id: str) -> list[Segment]: ...


@dataclass(frozen=True, slots=True)
class BulkGrant:
    """A bulk grant: ``amount`` of ``wallet`` to each of ``members``, once each."""

    id: str
    program_id: str
    external_id: str
    fingerprint: str
    wallet: str
    amount: int
    reason: str
    members: list[str]
    status: str
    granted: int
    created_at: datetime
    finished_at: datetime | None = None


class GrantRepository(Protocol):
    def add(self, grant: BulkGrant) -> None: ...
    def get(self, program_id: str, external_id: str) -> BulkGrant | None: ...
    def progress(self, grant_id: str, granted: int, status: str, at: datetime | None) -> None: ...


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    program_id: str
    code: str
    name: str
    start: datetime
    end: datetime
    audience: dict[str, Any]
    rules: list[dict[str, Any]]
    budget: int | None
    status: str
    created_at: datetime


class CampaignRepository(Protocol):
    def add(self, campaign: Campaign) -> None: ...
    def update(self, campaign: Campaign) -> None: ...
    def get(self, program_id: str, code: str) -> Campaign | None: ...
    def live(self, program_id: str, at: datetime) -> list[Campaign]:
        """Active campaigns whose window holds ``at``."""
        ...

    def awarded(self, program_id: str, rule_prefix: str) -> tuple[int, int]:
        """(points awarded, members reached) by rules whose id starts with ``rule_prefix``."""
        ...
