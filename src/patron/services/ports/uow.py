"""The unit of work: one transaction with its repositories, and the factory that opens it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from patron.domain.fingerprints import Fingerprints
from patron.services.ports.analytics import AnalyticsRepository
from patron.services.ports.audit import AuditRepository
from patron.services.ports.common import IdempotencyRepository
from patron.services.ports.ledger import LedgerRepository
from patron.services.ports.marketing import (
    CampaignRepository,
    GrantRepository,
    ReferralRepository,
    SegmentRepository,
)
from patron.services.ports.member_reads import MemberReads
from patron.services.ports.members import MemberRepository
from patron.services.ports.messages import MessageRecorder, MessageRepository
from patron.services.ports.portal import PortalRepository
from patron.services.ports.privacy import PrivacyRepository
from patron.services.ports.programs import ApiKeyRepository, ProgramRepository
from patron.services.ports.purchases import PurchaseRepository
from patron.services.ports.rewards import RewardRepository
from patron.services.ports.staff import StaffRepository
from patron.services.ports.tiers import TierRepository
from patron.services.ports.wallet import WalletPassRepository, WalletRepository
from patron.services.ports.webhooks import OutboxRepository, WebhookRepository


@dataclass(frozen=True, slots=True)
class BatchReads:
    """What a batch of use cases in one transaction is about to read, so a unit of work that
    can may fetch it in a few statements (``UnitOfWork.prefetch``). Only speed depends on it."""

    program_id: str
    member_external_ids: Sequence[str] = ()
    member_ids: Sequence[str] = ()
    purchase_keys: Sequence[str] = ()
    wallets: Sequence[str] = ()  # balances to lock for every member
    limited_rules: Sequence[str] = ()  # rules whose award moments are counted
    windows: Sequence[tuple[datetime | None, datetime | None]] = ()  # tier metric windows
    # (column, value) of members' identifiers whose holders enrolments will look for
    identifiers: Sequence[tuple[str, str]] = ()


class UnitOfWork(Protocol):
    """One database transaction. Leaving the block without ``commit()`` rolls back."""

    @property
    def programs(self) -> ProgramRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def members(self) -> MemberRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def ledger(self) -> LedgerRepository: ...
    @property
    def purchases(self) -> PurchaseRepository: ...
    @property
    def tiers(self) -> TierRepository: ...
    @property
    def rewards(self) -> RewardRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def referrals(self) -> ReferralRepository: ...
    @property
    def segments(self) -> SegmentRepository: ...
    @property
    def grants(self) -> GrantRepository: ...
    @property
    def campaigns(self) -> CampaignRepository: ...
    @property
    def messages(self) -> MessageRepository: ...
    @property
    def wallet(self) -> WalletRepository: ...
    @property
    def passes(self) -> WalletPassRepository: ...
    @property
    def webhooks(self) -> WebhookRepository: ...
    @property
    def analytics(self) -> AnalyticsRepository: ...
    @property
    def privacy(self) -> PrivacyRepository: ...
    @property
    def staff(self) -> StaffRepository: ...
    @property
    def portal(self) -> PortalRepository: ...
    @property
    def member_reads(self) -> MemberReads: ...

    def prefetch(self, reads: BatchReads) -> None:
        """Read ahead what a batch of use cases will ask for (a no-op where reads are cheap)."""
        ...

    def commit(self) -> None: ...
    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Opens units of work, unscoped or scoped to one program.

    A scoped factory's units of work are confined to its program by the storage itself where it
    can (row-level security on PostgreSQL), on top of the ``program_id`` every repository method
    takes: work for one program's caller runs scoped; work that legitimately crosses programs
    (authenticating a key, jobs, the CLI) runs unscoped.
    """

    @property
    def program_id(self) -> str | None:
        """The program this factory is scoped to, or None when unscoped."""
        ...

    @property
    def fingerprint(self) -> Fingerprints:
        """Fingerprints of requests as this storage keeps them: keyed with the server's secret
        (``patron.domain.fingerprints``)."""
        ...

    def __call__(self, *, write: bool) -> UnitOfWork: ...

    def scoped(self, program_id: str) -> UnitOfWorkFactory:
        """The same factory scoped to ``program_id`` (refused for a factory scoped elsewhere)."""
        ...

    def batched(self) -> UnitOfWorkFactory:
        """The same factory for bulk writes: its units of work write their changes at commit,
        many rows per statement, and answer a batch's hot reads from what ``prefetch`` read."""
        ...

    def message_recorder(self) -> MessageRecorder:
        """Records delivery results of this factory's program (it must be scoped), one
        committed write each (``patron.services.messages``)."""
        ...
