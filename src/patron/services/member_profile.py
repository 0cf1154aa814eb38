"""The member's whole story on one page (the console's 360° view), read in one transaction.

``profile`` gathers, with the use cases' own reads wherever one exists:

- the member and its current consent per channel, and every consent record, newest first;
- per wallet, the balance as the Member shape shows it (``balances.wallet_views``: expired lots
  are gone at once) and the open lots behind it: earned amount, what remains, when it was
  earned, becomes available and expires, and the entry that earned it; the pending lots are
  also listed as pending points with their release date;
- the tier with its progress to the next one and its history (``tiers.progress``);
- activity: the newest ledger entries, each with the explanation it was posted with (what each
  rule gave, its multipliers: "why 37 points", as ``GET .../activity`` shows it), paged by
  ``activity_before``; a balance after each entry is not stored, so none is shown;
- purchases (newest first) with their refunds and what those clawed back; redemptions with
  their vouchers; referrals made and the one that brought the member in; the audit trail of the
  member (newest first).

The number of statements does not grow with what the member holds: each list is one read
(``ports.member_reads`` where no use case had one), so a member with thousands of entries costs
the same handful of queries as a new one. Lists are bounded by ``limit`` (activity by
``activity_limit``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from patron.domain.audit import SYSTEM, AuditRecord
from patron.domain.ledger import Entry, Lot
from patron.domain.members import Consent, Member
from patron.domain.programs import Program
from patron.services import tiers
from patron.services.balances import WalletView, wallet_views
from patron.services.ledger import Context
from patron.services.members import get_member
from patron.services.ports import (
    AuditFilter,
    ConsentRecord,
    Redemption,
    Referral,
    StoredPurchase,
    StoredRefund,
    TierChange,
    UnitOfWork,
)
from patron.services.programs import load_config

LOTS_SHOWN = 20
"""Lots shown per wallet on the member's page: those that expire first (the rest are paged)."""


@dataclass(frozen=True, slots=True)
class WalletStory:
    code: str
    balance: WalletView  # available, pending, lifetime earned, next expiries
    lots: list[Lot]  # the open lots that expire first: earned, remaining, dates, entry_id
    open_lots: int  # how many lots are open in all (``lots`` shows the first LOTS_SHOWN)


@dataclass(frozen=True, slots=True)
class PendingPoints:
    wallet: str
    amount: int
    release_at: datetime
    entry_id: str


@dataclass(frozen=True, slots=True)
class TierStory:
    code: str
    name: str
    since: datetime | None
    until: datetime | None
    metric: str  # spend, points_earned or purchases
    current: Decimal  # the metric so far in this period
    next_code: str | None
    target: Decimal | None  # the next tier's threshold
    missing: Decimal | None  # what is still needed to reach it
    history: list[TierChange]  # oldest first, with cause and reason


@dataclass(frozen=True, slots=True)
class ActivityLine:
    entry: Entry  # type, wallet, amount, status, dates, reason, reference, actor
    explanation: list[dict[str, Any]]  # one line per rule that gave something
    balance_after: int | None = None  # not stored by the ledger


@dataclass(frozen=True, slots=True)
class PurchaseStory:
    purchase: StoredPurchase  # amount, refunded, eligible amount, dates
    earned: dict[str, int]  # wallet -> what the purchase earned
    refunds: list[StoredRefund]  # oldest first
    clawed_back: dict[str, int]  # wallet -> what its refunds took back


@dataclass(frozen=True, slots=True)
class RedemptionStory:
    redemption: Redemption  # status, voucher code, expiry, used_at
    reward_code: str | None
    reward_name: str | None


@dataclass(frozen=True, slots=True)
class Holdings:
    wallets: dict[str, WalletView]  # the points wallet first
    pending: list[PendingPoints]  # by release date


@dataclass(frozen=True, slots=True)
class Profile:
    member: Member
    consents: dict[str, Consent]  # current, per channel
    consent_history: list[ConsentRecord]  # every record, newest first
    wallets: dict[str, WalletStory]
    pending: list[PendingPoints]  # by release date
    tier: TierStory | None  # None when the program has no tiers
    activity: list[ActivityLine]  # newest first
    activity_next: str | None  # give it back as ``activity_before`` for older entries
    purchases: list[PurchaseStory]
    redemptions: list[RedemptionStory]
    referrals_made: list[Referral]  # as referrer
    referred: Referral | None  # as referee
    audit: list[AuditRecord]  # newest first


class _At:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


def profile(
    uow: UnitOfWork,
    program: Program,
    member_id: str,
    *,
    now: datetime,
    activity_limit: int = 50,
    activity_before: str | None = None,
    limit: int = 50,
) -> Profile:
    """The member's story as of ``now`` (see the module docstring). Raises: MemberNotFound."""
    member = get_member(uow, program, member_id)
    held = holdings(uow, program, member.id, now=now)
    reads = uow.member_reads
    wallets = {}
    for code, view in held.wallets.items():
        lots, count = reads.open_lots(member.id, code, limit=LOTS_SHOWN)
        wallets[code] = WalletStory(code, view, lots, count)
    pending = held.pending
    entries = uow.ledger.activity(
        program.id, member.id, before=activity_before, limit=activity_limit + 1
    )
    shown = entries[:activity_limit]
    referral_of_member = uow.referrals.of_referee(member.id)
    return Profile(
        member=member,
        consents=dict(member.consents),
        consent_history=reads.consent_history(member.id),
        wallets=wallets,
        pending=pending,
        tier=_tier(uow, program, member.id, now),
        activity=[ActivityLine(e, list(e.explanation)) for e in shown],
        activity_next=shown[-1].id if len(entries) > activity_limit and shown else None,
        purchases=_purchases(uow, program, member.id, limit),
        redemptions=_redemptions(uow, program, member.id, limit),
        referrals_made=uow.referrals.of_referrer(member.id),
        referred=referral_of_member,
        audit=list(
            uow.audit.find(
                program.id,
                AuditFilter(target_type="member", target_id=member.id),
                before=None,
                limit=limit,
            )
        ),
    )


def holdings(uow: UnitOfWork, program: Program, member_id: str, *, now: datetime) -> Holdings:
    """What the member holds as ``profile`` shows it, and nothing else of the story: each
    wallet's balance (the points wallet first) and the pending points with their release dates
    (the portal's Balance page, which needs no lots, purchases, audit or history)."""
    views = wallet_views(uow, program, [member_id], now=now)[member_id]
    wallets = dict(sorted(views.items(), key=lambda item: item[0] != "points"))
    pending = [
        PendingPoints(lot.wallet, lot.remaining, lot.available_at, lot.entry_id)
        for lot in uow.member_reads.pending_lots(member_id)
        if lot.wallet in wallets
    ]
    return Holdings(wallets, pending)


def _tier(uow: UnitOfWork, program: Program, member_id: str, now: datetime) -> TierStory | None:
    if load_config(uow, program).tiers is None:
        return None
    seen = tiers.progress(Context(uow, _At(now), SYSTEM, program), member_id)
    return TierStory(
        code=seen.current.code,
        name=seen.current.name,
        since=seen.held.since if seen.held else None,
        until=seen.held.until if seen.held else None,
        metric=seen.tiers.metric,
        current=seen.metric,
        next_code=seen.next.code if seen.next else None,
        target=seen.next.threshold if seen.next else None,
        missing=seen.remaining,
        history=seen.history,
    )


def _purchases(
    uow: UnitOfWork, program: Program, member_id: str, limit: int
) -> list[PurchaseStory]:
    bought = uow.member_reads.purchases(program.id, member_id, limit=limit)
    refunds: dict[str, list[StoredRefund]] = defaultdict(list)
    for refund in uow.member_reads.refunds_of([p.id for p in bought]):
        refunds[refund.purchase_id].append(refund)
    stories = []
    for purchase in bought:
        earned: dict[str, int] = defaultdict(int)
        for award in purchase.result.get("awards", []):
            earned[award["wallet"]] += int(award["amount"])
        clawed: dict[str, int] = defaultdict(int)
        for refund in refunds[purchase.id]:
            for wallet, amount in refund.result.get("clawed_back", {}).items():
                clawed[wallet] += int(amount)
        stories.append(PurchaseStory(purchase, dict(earned), refunds[purchase.id], dict(clawed)))
    return stories


def _redemptions(
    uow: UnitOfWork, program: Program, member_id: str, limit: int
) -> list[RedemptionStory]:
    found = uow.member_reads.redemptions(program.id, member_id, limit=limit)
    if not found:
        return []
    rewards = {r.id: r for r in uow.rewards.all(program.id)}
    return [
        RedemptionStory(
            d,
            rewards[d.reward_id].code if d.reward_id in rewards else None,
            rewards[d.reward_id].name if d.reward_id in rewards else None,
        )
        for d in found
    ]
