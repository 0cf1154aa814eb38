"""The ports the use cases need: a unit of work with its repositories, and a clock.

Adapters implement them (``patron.adapters.db``); services depend only on these Protocols, so a
use case reads as business steps and its storage can be swapped or instrumented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from patron.domain.audit import AuditRecord
from patron.domain.fingerprints import Fingerprints
from patron.domain.keys import ApiKey
from patron.domain.ledger import Balance, Change, Consumption, Entry, Lot
from patron.domain.members import Consent, Member
from patron.domain.programs import Program
from patron.domain.rewards import Reward
from patron.domain.tiers import Grant


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    """The remembered answer to an idempotent request."""

    fingerprint: str
    status: int | None  # None while the first request is still running
    body: Any


@dataclass(frozen=True, slots=True)
class MemberFilter:
    external_id: str | None = None
    email_key: str | None = None
    phone: str | None = None
    card_number: str | None = None
    referral_code: str | None = None
    tier_code: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    target_type: str | None = None
    target_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class ProgramRepository(Protocol):
    def add(self, program: Program) -> None: ...
    def get(self, ref: str) -> Program | None: ...
    def all(self) -> list[Program]: ...
    def page(self, *, after: str | None, limit: int) -> list[Program]:
        """Programs in slug order, after the slug ``after``."""
        ...

    def slug_taken(self, slug: str) -> bool: ...
    def bump_config_version(self, program_id: str) -> int: ...
    def lock(self, program_id: str) -> None: ...
    def add_config(
        self, program_id: str, version: int, document: dict[str, Any], at: datetime, actor: str
    ) -> None: ...
    def get_config(self, program_id: str, version: int) -> dict[str, Any] | None: ...


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey, digest: str) -> None: ...
    def by_prefix(self, prefix: str) -> tuple[ApiKey, str] | None: ...
    def get(self, key_id: str) -> ApiKey | None: ...
    def of_program(self, program_id: str, *, after: str | None, limit: int) -> list[ApiKey]:
        """The program's keys (revoked ones too) in id order, after the id ``after``."""
        ...

    def every(self, *, after: str | None, limit: int) -> list[ApiKey]:
        """Every key, platform keys too, in id order (the scope of the unit of work applies)."""
        ...

    def revoke(self, key_id: str, at: datetime) -> None: ...
    def touch(self, key_id: str, at: datetime, *, unless_since: datetime) -> bool:
        """Set ``last_used_at`` to ``at`` unless it is already ``unless_since`` or later;
        True when it wrote."""
        ...

    def live_named(self, program_id: str, name: str) -> list[ApiKey]:
        """The program's keys of that name that are not revoked."""
        ...


class MemberRepository(Protocol):
    def add(self, member: Member) -> None: ...
    def get(self, program_id: str, member_id: str) -> Member | None: ...
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


class AuditRepository(Protocol):
    @property
    def recorded(self) -> int:
        """How many records this unit of work has added so far."""
        ...

    def add(self, record: AuditRecord) -> None: ...
    def find(
        self, program_id: str, where: AuditFilter, *, before: int | None, limit: int
    ) -> Sequence[AuditRecord]: ...


class IdempotencyRepository(Protocol):
    def claim(
        self, scope: str, key: str, fingerprint: str, at: datetime
    ) -> StoredOutcome | None: ...
    def complete(self, scope: str, key: str, status: int, body: Any) -> None: ...
    def purge(self, before: datetime, limit: int) -> int:
        """Forget up to ``limit`` keys created before ``before``; returns how many."""
        ...


BalanceKey = tuple[str, str]
"""(member id, wallet code)."""


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken ledger invariant found by ``patron audit``."""

    check: str
    subject: str
    detail: str


@dataclass(frozen=True, slots=True)
class ExpiryTotal:
    """What an expiry takes from one wallet: how many open lots, what remains of them in
    ``member:pending`` and in ``member:available``, and the latest expiry date among them."""

    lots: int
    from_pending: int
    from_available: int
    latest: datetime | None


class LedgerRepository(Protocol):
    def lock_balances(
        self, program_id: str, keys: Sequence[BalanceKey]
    ) -> dict[BalanceKey, Balance]:
        """Lock (creating if missing) the balance rows, in sorted order, for this transaction."""
        ...

    def held(self, keys: Sequence[BalanceKey]) -> dict[BalanceKey, Balance]:
        """Those of ``keys`` this transaction has locked, as its changes left them (no read)."""
        ...

    def save(self, program_id: str, change: Change) -> None: ...
    def entry_by_key(self, program_id: str, key: str) -> Entry | None: ...
    def get_entry(self, program_id: str, entry_id: str) -> Entry | None: ...
    def cancellation_of(self, entry_id: str) -> Entry | None: ...
    def open_lots(self, member_id: str, wallet: str) -> list[Lot]:
        """Lots with something remaining, pending or available."""
        ...

    def open_lots_of(self, keys: Sequence[BalanceKey]) -> dict[BalanceKey, list[Lot]]:
        """``open_lots`` of many wallets in one read."""
        ...

    def lots_of_entry(self, entry_id: str) -> list[Lot]: ...
    def lots_by_id(self, lot_ids: Sequence[str]) -> list[Lot]: ...
    def consumptions_of(self, entry_id: str) -> list[Consumption]: ...
    def expiry_totals(
        self, keys: Sequence[BalanceKey], until: datetime | None
    ) -> dict[BalanceKey, ExpiryTotal]:
        """Per wallet of ``keys`` with any, the totals of its open lots expiring by ``until``
        (every open lot when ``until`` is None); read under the wallets' balance locks."""
        ...

    def expire_lots(self, entries: Mapping[BalanceKey, str], until: datetime | None) -> int:
        """Let each wallet's saved expire entry (``entries``: wallet → entry id) consume all that
        remains of the wallet's open lots expiring by ``until`` (every open lot when None), and
        empty those lots; how many lots. They are the lots ``expiry_totals`` summed, as long as
        the balance locks are held."""
        ...

    def due_for_release(self, program_id: str, now: datetime, limit: int) -> list[BalanceKey]: ...
    def due_for_expiry(self, program_id: str, now: datetime, limit: int) -> list[BalanceKey]: ...
    def idle_wallets(
        self,
        program_id: str,
        wallet: str,
        bounds: tuple[datetime | None, datetime],
        *,
        after: str | None = None,
        limit: int,
    ) -> list[Balance]:
        """Balances of ``wallet`` holding something, last active within ``bounds`` (first, or
        None for no lower bound; last, inclusive), by member id after ``after``."""
        ...

    def balances(self, program_id: str, member_ids: Sequence[str]) -> list[Balance]: ...
    def expiring(
        self, member_ids: Sequence[str], wallets: Sequence[str]
    ) -> list[tuple[str, str, datetime, bool, int]]:
        """(member id, wallet, expires_at, pending, amount) of open lots with an expiry date,
        whether or not it has passed, in no order."""
        ...

    def activity(
        self, program_id: str, member_id: str, *, before: str | None, limit: int
    ) -> list[Entry]: ...
    def total(
        self,
        member_id: str,
        wallet: str,
        types: Sequence[str],
        since: datetime | None,
        until: datetime | None,
    ) -> int:
        """Sum of the member's entry amounts of ``types`` with ``since <= occurred_at < until``."""
        ...

    def expiring_between(
        self, program_id: str, wallet: str, start: datetime, end: datetime
    ) -> list[tuple[str, datetime, int]]:
        """(member, expires_at, amount) of available lots expiring in ``[start, end)``."""
        ...

    def verify(self, program_id: str | None) -> list[Violation]:
        """Recompute every balance from the postings and check every ledger invariant."""
        ...


@dataclass(frozen=True, slots=True)
class StoredPurchase:
    id: str
    program_id: str
    external_id: str
    member_id: str | None
    occurred_at: datetime
    channel: str | None
    store_id: str | None
    eligible_amount: int
    fingerprint: str
    config_version: int
    document: dict[str, Any]
    result: dict[str, Any]
    recorded_at: datetime
    amount: int = 0  # the subtotal, minor units
    refunded: int = 0  # of ``amount``, given back by refunds
    eligible_left: int = 0  # of ``eligible_amount``, after refunds


@dataclass(frozen=True, slots=True)
class PurchaseTotals:
    """A member's purchases in a window, net of refunds."""

    eligible: int  # minor units left after refunds
    standing: int  # purchases not fully refunded
    last_at: datetime | None  # the latest of those


@dataclass(frozen=True, slots=True)
class StoredAward:
    purchase_id: str
    rule_id: str
    program_id: str
    member_id: str
    kind: str
    wallet: str
    amount: int
    occurred_at: datetime
    entry_id: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: str
    program_id: str
    external_id: str
    member_id: str
    type: str
    occurred_at: datetime
    fingerprint: str
    result: dict[str, Any]
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class StoredEventAward:
    event_id: str
    rule_id: str
    program_id: str
    member_id: str
    wallet: str
    amount: int
    occurred_at: datetime
    entry_id: str


@dataclass(frozen=True, slots=True)
class StoredRefund:
    id: str
    program_id: str
    purchase_id: str
    external_id: str
    fingerprint: str
    document: dict[str, Any]
    result: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime


class PurchaseRepository(Protocol):
    def get(self, program_id: str, external_id: str) -> StoredPurchase | None: ...
    def add(self, purchase: StoredPurchase) -> None: ...
    def add_awards(self, awards: Sequence[StoredAward]) -> None: ...
    def attach(
        self, purchase_id: str, member_id: str, config_version: int, result: dict[str, Any]
    ) -> None: ...
    def count_for_member(self, member_id: str) -> int: ...
    def award_moments(
        self, member_id: str, rule_ids: Sequence[str]
    ) -> list[tuple[str, datetime]]: ...
    def budget_used(self, program_id: str, rule_ids: Sequence[str]) -> dict[str, int]: ...
    def totals(
        self, member_id: str, since: datetime | None, until: datetime | None
    ) -> PurchaseTotals:
        """The member's purchases with ``since <= occurred_at < until``, net of refunds."""
        ...

    def refunded(self, purchase_id: str, *, eligible: int, amount: int) -> None:
        """Take a refund off the purchase's running totals."""
        ...

    def get_event(self, program_id: str, external_id: str) -> StoredEvent | None: ...
    def add_event(self, event: StoredEvent, awards: Sequence[StoredEventAward]) -> None: ...
    def get_refund(self, program_id: str, external_id: str) -> StoredRefund | None: ...
    def refunds_of(self, purchase_id: str) -> list[StoredRefund]: ...
    def add_refund(self, refund: StoredRefund) -> None: ...


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


@dataclass(frozen=True, slots=True)
class Redemption:
    id: str
    program_id: str
    member_id: str
    reward_id: str | None
    wallet: str
    amount: int
    entry_id: str
    status: str
    voucher_code: str | None
    voucher_expires_at: datetime | None
    created_at: datetime
    used_at: datetime | None = None
    used_reference: str | None = None
    cancelled_at: datetime | None = None


class RewardRepository(Protocol):
    def add(self, reward: Reward) -> None: ...
    def update(self, reward: Reward) -> None: ...
    def get(self, program_id: str, code: str) -> Reward | None: ...
    def by_id(self, reward_id: str) -> Reward | None: ...
    def all(self, program_id: str) -> list[Reward]: ...
    def take_stock(self, reward_id: str) -> bool:
        """Take one unit if any is left (None stock is unlimited); False when none is."""
        ...

    def return_stock(self, reward_id: str) -> None: ...
    def redeemed_by(self, member_id: str, reward_ids: Sequence[str]) -> dict[str, int]: ...
    def add_redemption(self, redemption: Redemption) -> None: ...
    def redemption(self, program_id: str, redemption_id: str) -> Redemption | None: ...
    def voucher(self, program_id: str, code: str) -> Redemption | None: ...
    def live_vouchers(self, program_id: str, member_id: str, now: datetime) -> list[Redemption]:
        """The member's vouchers still to be used: issued, and not expired by ``now``."""
        ...

    def set_status(
        self,
        redemption_id: str,
        *,
        from_status: str,
        to_status: str,
        at: datetime,
        reference: str | None = None,
    ) -> bool:
        """Move a redemption from one status to another; False if it was not in ``from_status``."""
        ...

    def expire_vouchers(self, program_id: str, now: datetime) -> int: ...


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """A business fact to publish (webhooks, messages) once its transaction has committed."""

    id: str
    program_id: str
    type: str
    subject: str | None
    payload: dict[str, Any]
    occurred_at: datetime
    published_at: datetime | None = None


class OutboxRepository(Protocol):
    def add(self, event: OutboxEvent) -> None: ...
    def add_many(self, events: Sequence[OutboxEvent]) -> None: ...
    def pending(self, program_id: str, limit: int) -> list[OutboxEvent]: ...
    def exists(self, program_id: str, event_type: str, subject: str) -> bool: ...


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


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: str
    program_id: str
    url: str
    events: list[str]
    secret: str
    status: str  # active, disabled
    created_at: datetime
    description: str | None = None
    previous_secret: str | None = None
    previous_secret_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    id: str
    program_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: str  # pending, delivered, failed
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    delivery_id: str
    number: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery a worker has leased, with everything needed to send it."""

    delivery: WebhookDelivery
    endpoint: WebhookEndpoint
    event: OutboxEvent


class WebhookRepository(Protocol):
    def add_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    def update_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    def endpoint(self, program_id: str, endpoint_id: str) -> WebhookEndpoint | None: ...
    def endpoints(self, program_id: str) -> list[WebhookEndpoint]: ...
    def fan_out(self, program_id: str, now: datetime, limit: int) -> int:
        """Copy up to ``limit`` unpublished outbox facts into one pending delivery per
        subscribed active endpoint and mark them published; returns the facts handled. Facts
        already being handled by another worker are skipped, not waited for."""
        ...

    def claim(
        self, program_id: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[ClaimedDelivery]:
        """Lease due deliveries of active endpoints (skipping rows other workers hold) and
        count the attempt."""
        ...

    def finish(
        self,
        claimed: WebhookDelivery,
        attempt: WebhookAttempt,
        status: str,
        next_attempt_at: datetime | None,
    ) -> bool:
        """Record the attempt and the delivery's new state, unless another worker has
        claimed the delivery since (then only the attempt is logged); returns whether the
        state changed."""
        ...

    def deliveries(
        self, endpoint_id: str, *, status: str | None, after: str | None, limit: int
    ) -> list[WebhookDelivery]: ...
    def delivery(self, endpoint_id: str, delivery_id: str) -> WebhookDelivery | None: ...
    def attempts(self, delivery_ids: list[str]) -> list[WebhookAttempt]: ...
    def retry(self, delivery: WebhookDelivery, now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class SendResult:
    status_code: int | None  # None when no HTTP answer came back
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender(Protocol):
    """Signs and sends webhook messages over HTTP (the adapter guards the targets)."""

    def check(self, url: str) -> str | None:
        """Why the deployment may not send to ``url`` (resolving its host), or None."""
        ...

    def send(self, url: str, message_id: str, body: bytes, secrets: list[str]) -> SendResult:
        """POST ``body`` signed with every secret; never raises for network failures."""
        ...


@dataclass(frozen=True, slots=True)
class MemberCounts:
    total: int
    new: int
    active: int
    tiers: dict[str, int]


@dataclass(frozen=True, slots=True)
class LedgerFlows:
    """Units that moved in a window, and the balances now (minor units for money wallets)."""

    issued: int
    redeemed: int  # net of cancelled redemptions
    expired: int
    clawed_back: int
    adjusted_down: int
    outstanding: int
    pending: int


@dataclass(frozen=True, slots=True)
class SalesFigures:
    """Purchases in a window, net of refunds (minor units)."""

    member_sales: int
    anonymous_sales: int
    orders: int  # not fully refunded
    buyers: int  # members with at least one such purchase
    repeat_buyers: int  # members with two or more
    member_orders: int
    cycle_days_total: float  # sum over repeat buyers of their mean days between purchases
    cycle_members: int
    lifetime_member_sales: int  # every member purchase before the window's end


class AnalyticsRepository(Protocol):
    def members(
        self, program_id: str, start: datetime, end: datetime, active_since: datetime
    ) -> MemberCounts: ...
    def flows(
        self, program_id: str, wallets: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, LedgerFlows]: ...
    def sales(self, program_id: str, start: datetime, end: datetime) -> SalesFigures: ...


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
    def webhooks(self) -> WebhookRepository: ...
    @property
    def analytics(self) -> AnalyticsRepository: ...
    @property
    def privacy(self) -> PrivacyRepository: ...

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


class RetryableError(Exception):
    """A transient storage failure (deadlock, serialization failure, lock time-out).

    Adapters raise it; the transaction runner retries the whole use case.
    """
