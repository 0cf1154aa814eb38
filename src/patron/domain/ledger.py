"""The points ledger: entries, postings, lots, and the pure plans that change them.

Double entry. Every movement is a posting of a positive amount from one account to another, in
one wallet, so every entry sums to zero per wallet by construction. The accounts::

    member:available   the member's spendable balance (negative only after a clawback)
    member:pending     earned, waiting for the return window to pass
    program:issued     source of earned points (earn, referral)
    program:redeemed   sink of redemptions; source of cancelled redemptions
    program:expired    sink of expired points
    program:refunds    sink of clawbacks
    program:adjustments  source / sink of manual adjustments
    program:transfers  transit account of member-to-member transfers (nets to zero)
    program:erased     where an erased member's balances go (and what pays off a deficit)

The program-side accounts have no balance row: they are derived by aggregating postings, so no
hot row is locked by every earn. A member's balance per wallet is cached in one row (``Balance``)
that every use case locks before it changes anything.

Every credit creates a **lot** (amount, remaining, earned at, available at, expires at).
Debits consume lots soonest-expiring first, lots without expiry last, ties by earliest earned
(``fefo_key``), and record what they took (``Consumption``). A clawback may push the available
balance below zero; the shortfall is the balance's ``deficit``, and every later credit pays it
first (recorded as a consumption of the new lot by the crediting entry).

Functions here are pure: they take the locked state and return a ``Change`` to persist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, get_args

from patron.domain.errors import InsufficientBalance

EntryType = Literal[
    "earn",
    "release",
    "redeem",
    "redemption_cancel",
    "refund",
    "expire",
    "adjust",
    "transfer",
    "referral",
    "erase",
]
ENTRY_TYPES: tuple[str, ...] = get_args(EntryType)

AVAILABLE = "member:available"
PENDING = "member:pending"
ISSUED = "program:issued"
REDEEMED = "program:redeemed"
EXPIRED = "program:expired"
REFUNDS = "program:refunds"
ADJUSTMENTS = "program:adjustments"
TRANSFERS = "program:transfers"
ERASED = "program:erased"
MEMBER_ACCOUNTS = frozenset({AVAILABLE, PENDING})

EARNING_TYPES = frozenset({"earn", "referral"})
"""Entry types that count towards ``lifetime_earned`` (net of refund clawbacks)."""


@dataclass(frozen=True, slots=True)
class Posting:
    source: str
    destination: str
    amount: int

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError("a posting moves a positive amount")

    def effect_on(self, account: str) -> int:
        """How this posting changes ``account``'s balance."""
        return (self.amount if self.destination == account else 0) - (
            self.amount if self.source == account else 0
        )


@dataclass(frozen=True, slots=True)
class Entry:
    """One posted fact. ``amount`` is signed from the member's side: the change of available
    plus pending, except for a release, whose amount is what became available."""

    id: str
    program_id: str
    member_id: str
    wallet: str
    type: str
    amount: int
    status: str
    occurred_at: datetime
    recorded_at: datetime
    postings: tuple[Posting, ...]
    reference: str | None = None
    key: str | None = None
    reverses: str | None = None
    reason: str | None = None
    actor: str | None = None
    config_version: int | None = None
    explanation: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Lot:
    id: str
    member_id: str
    wallet: str
    entry_id: str
    amount: int
    remaining: int
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None
    pending: bool


@dataclass(frozen=True, slots=True)
class Consumption:
    entry_id: str
    lot_id: str
    amount: int


@dataclass(frozen=True, slots=True)
class Balance:
    member_id: str
    wallet: str
    available: int = 0
    pending: int = 0
    lifetime_earned: int = 0
    last_activity_at: datetime | None = None
    version: int = 0

    @property
    def deficit(self) -> int:
        """What a clawback took beyond the available balance, owed out of later credits."""
        return max(0, -self.available)


@dataclass(slots=True)
class Change:
    """What a use case writes: new entries and lots, updated lots and balances."""

    entries: list[Entry] = field(default_factory=list)
    new_lots: list[Lot] = field(default_factory=list)
    updated_lots: list[Lot] = field(default_factory=list)
    consumptions: list[Consumption] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Header:
    """The descriptive fields every new entry carries."""

    entry_id: str
    program_id: str
    type: str
    occurred_at: datetime
    recorded_at: datetime
    reference: str | None = None
    key: str | None = None
    reverses: str | None = None
    reason: str | None = None
    actor: str | None = None
    config_version: int | None = None
    explanation: tuple[dict[str, Any], ...] = ()

    def entry(self, balance: Balance, postings: Sequence[Posting], status: str) -> Entry:
        net = sum(
            p.effect_on(AVAILABLE) + (0 if self.type == "release" else p.effect_on(PENDING))
            for p in postings
        )
        return Entry(
            id=self.entry_id,
            program_id=self.program_id,
            member_id=balance.member_id,
            wallet=balance.wallet,
            type=self.type,
            amount=net,
            status=status,
            occurred_at=self.occurred_at,
            recorded_at=self.recorded_at,
            postings=tuple(postings),
            reference=self.reference,
            key=self.key,
            reverses=self.reverses,
            reason=self.reason,
            actor=self.actor,
            config_version=self.config_version,
            explanation=self.explanation,
        )


def fefo_key(lot: Lot) -> tuple[bool, datetime, datetime, str]:
    """Redemption order: soonest expiry first, no expiry last, ties by earliest earned."""
    return (lot.expires_at is None, lot.expires_at or lot.earned_at, lot.earned_at, lot.id)


def take(lots: Iterable[Lot], amount: int) -> tuple[list[tuple[Lot, int]], int]:
    """Take up to ``amount`` from ``lots`` in their given order: (lot, taken) pairs, shortfall."""
    takes: list[tuple[Lot, int]] = []
    left = amount
    for lot in lots:
        if left == 0:
            break
        taken = min(lot.remaining, left)
        if taken > 0:
            takes.append((lot, taken))
            left -= taken
    return takes, left


def _apply_takes(change: Change, entry_id: str, takes: list[tuple[Lot, int]]) -> None:
    for lot, taken in takes:
        change.updated_lots.append(replace(lot, remaining=lot.remaining - taken))
        change.consumptions.append(Consumption(entry_id, lot.id, taken))


def credit(
    balance: Balance,
    header: Header,
    *,
    lots: Sequence[tuple[str, int, datetime, datetime | None]],
    available_at: datetime,
    pending: bool,
    source: str,
) -> Change:
    """Credit new lots ``(lot_id, amount, earned_at, expires_at)`` to the member.

    Pending credits wait in ``member:pending`` until ``available_at``. Available credits first
    pay any deficit left by a clawback, out of the new lots.
    """
    total = sum(amount for _, amount, _, _ in lots)
    change = Change()
    new_lots = [
        Lot(
            id=lot_id,
            member_id=balance.member_id,
            wallet=balance.wallet,
            entry_id=header.entry_id,
            amount=amount,
            remaining=amount,
            earned_at=earned_at,
            available_at=available_at,
            expires_at=expires_at,
            pending=pending,
        )
        for lot_id, amount, earned_at, expires_at in lots
    ]
    if not pending and balance.deficit:
        takes, _ = take(sorted(new_lots, key=fefo_key), balance.deficit)
        paid = {lot.id: taken for lot, taken in takes}
        change.consumptions += [
            Consumption(header.entry_id, lot_id, n) for lot_id, n in paid.items()
        ]
        new_lots = [replace(lot, remaining=lot.remaining - paid.get(lot.id, 0)) for lot in new_lots]
    change.new_lots = new_lots
    destination = PENDING if pending else AVAILABLE
    earned = total if header.type in EARNING_TYPES else 0
    change.balances.append(
        replace(
            balance,
            available=balance.available + (0 if pending else total),
            pending=balance.pending + (total if pending else 0),
            lifetime_earned=balance.lifetime_earned + earned,
            last_activity_at=_later(balance.last_activity_at, header.occurred_at),
        )
    )
    change.entries.append(
        header.entry(
            balance, [Posting(source, destination, total)], "pending" if pending else "posted"
        )
    )
    return change


def debit(
    balance: Balance,
    header: Header,
    *,
    lots: Sequence[Lot],
    amount: int,
    destination: str,
    activity: bool = True,
) -> Change:
    """Take ``amount`` from the available balance, consuming ``lots`` soonest-expiring first.

    Raises: InsufficientBalance (not enough, or the balance is negative after a clawback).
    """
    if balance.available < 0:
        raise InsufficientBalance(
            "the balance is negative after a refund; it must be paid back by new earnings first",
            available=balance.available,
            requested=amount,
        )
    if amount > balance.available:
        raise InsufficientBalance(
            f"the available balance is {balance.available}, {amount} was requested",
            available=balance.available,
            requested=amount,
        )
    takes, shortfall = take(sorted((lot for lot in lots if not lot.pending), key=fefo_key), amount)
    if shortfall:  # the lots disagree with the balance row: refuse rather than corrupt
        raise RuntimeError(
            f"lots of {balance.member_id}/{balance.wallet} hold less than the balance"
        )
    change = Change()
    _apply_takes(change, header.entry_id, takes)
    change.balances.append(
        replace(
            balance,
            available=balance.available - amount,
            last_activity_at=(
                _later(balance.last_activity_at, header.occurred_at)
                if activity
                else balance.last_activity_at
            ),
        )
    )
    change.entries.append(
        header.entry(balance, [Posting(AVAILABLE, destination, amount)], "posted")
    )
    return change


def release(balance: Balance, header: Header, *, lots: Sequence[Lot]) -> Change:
    """Move pending ``lots`` to the available balance (paying any deficit first)."""
    due = [lot for lot in lots if lot.pending]
    total = sum(lot.remaining for lot in due)
    change = Change()
    released = [replace(lot, pending=False) for lot in due]
    if balance.deficit:
        takes, _ = take(sorted(released, key=fefo_key), balance.deficit)
        paid = {lot.id: taken for lot, taken in takes}
        change.consumptions += [
            Consumption(header.entry_id, lot_id, n) for lot_id, n in paid.items()
        ]
        released = [replace(lot, remaining=lot.remaining - paid.get(lot.id, 0)) for lot in released]
    change.updated_lots = released
    change.balances.append(
        replace(balance, available=balance.available + total, pending=balance.pending - total)
    )
    if total:
        change.entries.append(header.entry(balance, [Posting(PENDING, AVAILABLE, total)], "posted"))
    return change


def clawback(
    balance: Balance,
    header: Header,
    *,
    own_lots: Sequence[Lot],
    other_lots: Sequence[Lot],
    amount: int,
) -> Change:
    """Take back ``amount``: from the purchase's own lots first (pending or available), then
    from other available lots, soonest-expiring first; what is missing makes the available
    balance negative (the only way it can become negative)."""
    own = sorted(own_lots, key=fefo_key)
    own_ids = {lot.id for lot in own}
    others = sorted(
        (lot for lot in other_lots if not lot.pending and lot.id not in own_ids), key=fefo_key
    )
    takes, shortfall = take([*own, *others], amount)
    from_pending = sum(taken for lot, taken in takes if lot.pending)
    from_available = amount - from_pending
    change = Change()
    _apply_takes(change, header.entry_id, takes)
    postings = [
        Posting(account, REFUNDS, part)
        for account, part in ((PENDING, from_pending), (AVAILABLE, from_available))
        if part
    ]
    earned = amount if header.type == "refund" else 0
    change.balances.append(
        replace(
            balance,
            available=balance.available - from_available,
            pending=balance.pending - from_pending,
            lifetime_earned=balance.lifetime_earned - earned,
        )
    )
    del shortfall  # already part of from_available: it drives the balance below zero
    change.entries.append(header.entry(balance, postings, "posted"))
    return change


def expire(balance: Balance, header: Header, *, lots: Sequence[Lot]) -> Change:
    """Expire what remains of ``lots`` (pending lots leave the pending balance)."""
    takes = [(lot, lot.remaining) for lot in sorted(lots, key=fefo_key) if lot.remaining > 0]
    from_pending = sum(n for lot, n in takes if lot.pending)
    from_available = sum(n for lot, n in takes if not lot.pending)
    change = Change()
    if not takes:
        return change
    _apply_takes(change, header.entry_id, takes)
    postings = [
        Posting(account, EXPIRED, part)
        for account, part in ((PENDING, from_pending), (AVAILABLE, from_available))
        if part
    ]
    change.balances.append(
        replace(
            balance,
            available=balance.available - from_available,
            pending=balance.pending - from_pending,
        )
    )
    change.entries.append(header.entry(balance, postings, "posted"))
    return change


def close(
    balance: Balance, header: Header, *, lots: Sequence[Lot], account: str = ERASED
) -> Change:
    """Bring the balance to zero in one entry: what remains of ``lots`` (available and pending)
    goes to ``account``, and a deficit left by a clawback is written off from it.

    Returns an empty change when there is nothing to close.
    """
    takes = [(lot, lot.remaining) for lot in sorted(lots, key=fefo_key) if lot.remaining > 0]
    from_pending = sum(n for lot, n in takes if lot.pending)
    from_available = sum(n for lot, n in takes if not lot.pending)
    if (from_available, from_pending) != (max(balance.available, 0), balance.pending):
        # the lots disagree with the balance row: refuse rather than corrupt
        raise RuntimeError(
            f"lots of {balance.member_id}/{balance.wallet} disagree with the balance"
        )
    change = Change()
    postings = [
        Posting(source, destination, part)
        for source, destination, part in (
            (PENDING, account, from_pending),
            (AVAILABLE, account, from_available),
            (account, AVAILABLE, balance.deficit),
        )
        if part
    ]
    if not postings:
        return change
    _apply_takes(change, header.entry_id, takes)
    change.balances.append(replace(balance, available=0, pending=0))
    change.entries.append(header.entry(balance, postings, "posted"))
    return change


def _later(current: datetime | None, moment: datetime) -> datetime:
    return moment if current is None or moment > current else current
