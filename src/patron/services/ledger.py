"""Use cases of the points ledger: earn, debit, cancel, clawback, adjust, transfer, close.

Each runs inside the caller's unit of work (one transaction) and follows the same steps: lock
the member's balance rows (sorted), replay if the business ``key`` was already posted, check
the member's status, let the pure domain plan the change, save it. A business key is unique per
program in the database too, so a retry or a duplicate can never post twice.

Amounts are integers: points, or minor units of the program currency for money wallets.

What has expired is gone even before the expiry job writes it down (docs/ledger.md, "Expiry"):
before a movement takes from lots, ``settle`` writes down in the same transaction what of the
wallet has expired; a credit does so only when an idle wallet has passed its inactivity deadline
(a new activity must not revive it), so an earn reads nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from patron.domain import ledger
from patron.domain.audit import SYSTEM, Actor
from patron.domain.config import ProgramConfig, Wallet
from patron.domain.errors import (
    AlreadyCancelled,
    BusinessKeyConflict,
    EntryNotFound,
    FieldError,
    MemberFrozen,
    MemberInactive,
    MemberNotFound,
    NotCancellable,
    ValidationFailed,
)
from patron.domain.expiry import lapsed, lapsed_by_inactivity, lot_expiry
from patron.domain.ids import new_id
from patron.domain.ledger import Balance, Change, Entry, Header, Lot
from patron.domain.members import Member
from patron.domain.programs import Program
from patron.services import outbox
from patron.services.ports import BalanceKey, Clock, UnitOfWork
from patron.services.programs import load_config

MAX_AMOUNT = 10**15


@dataclass(frozen=True, slots=True)
class Posted:
    """The entries a use case posted (or found, on a replay) and the balances after it."""

    entries: tuple[Entry, ...]
    balances: dict[BalanceKey, Balance]
    replayed: bool = False

    @property
    def entry(self) -> Entry:
        return self.entries[0]


class StoppedClock:
    """A clock stopped at one moment: jobs and evaluations run "as of" an explicit ``now``."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at


@dataclass(frozen=True, slots=True)
class Context:
    """What every ledger use case needs: storage, time, who, which program and configuration."""

    uow: UnitOfWork
    clock: Clock
    actor: Actor
    program: Program

    @property
    def config(self) -> ProgramConfig:
        return load_config(self.uow, self.program)

    def wallet(self, code: str, *, path: str = "wallet") -> Wallet:
        wallet = self.config.wallets.get(code)
        if wallet is None:
            known = ", ".join(self.config.wallets)
            raise ValidationFailed([FieldError(path, f"unknown wallet {code!r} (known: {known})")])
        return wallet

    def header(self, entry_type: str, occurred_at: datetime, **fields: Any) -> Header:
        return Header(
            entry_id=new_id(),
            program_id=self.program.id,
            type=entry_type,
            occurred_at=occurred_at,
            recorded_at=self.clock.now(),
            actor=self.actor.label,
            config_version=self.program.config_version,
            **fields,
        )


def check_amount(amount: int, *, path: str = "amount") -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise ValidationFailed([FieldError(path, f"must be a whole number from 1 to {MAX_AMOUNT}")])


def member_for(ctx: Context, member_id: str, *, debit: bool) -> Member:
    """The member, if its status allows this movement.

    Raises: MemberNotFound, MemberInactive (closed or erased), MemberFrozen (debits only).
    """
    member = ctx.uow.members.get(ctx.program.id, member_id)
    if member is None:
        raise MemberNotFound(f"no member {member_id!r} in this program", member=member_id)
    return can_move(member, debit=debit)


def can_move(member: Member, *, debit: bool) -> Member:
    """``member`` if its status allows this movement. Raises: MemberInactive, MemberFrozen."""
    member_id = member.id
    if member.status in ("closed", "erased"):
        # not ``status=``: that is the problem document's HTTP status
        raise MemberInactive(f"member {member_id} is {member.status}", member_status=member.status)
    if debit and member.status == "frozen":
        raise MemberFrozen(f"member {member_id} is frozen: nothing can be debited")
    return member


def replay(
    ctx: Context, key: str | None, *, member_id: str, wallet: str, entry_type: str, amount: int
) -> Posted | None:
    """The earlier result of business ``key``, or None when it is new.

    Raises: BusinessKeyConflict when the key was used for a different movement.
    """
    if key is None:
        return None
    found = ctx.uow.ledger.entry_by_key(ctx.program.id, key)
    if found is None:
        return None
    if (found.member_id, found.wallet, found.type, abs(found.amount)) != (
        member_id,
        wallet,
        entry_type,
        amount,
    ):
        raise BusinessKeyConflict(
            f"the key {key!r} was already used for a different {found.type} entry", key=key
        )
    balances = ctx.uow.ledger.lock_balances(ctx.program.id, [(member_id, wallet)])
    return Posted((found,), balances, replayed=True)


def _save(ctx: Context, change: Change, locked: dict[BalanceKey, Balance]) -> Posted:
    ctx.uow.ledger.save(ctx.program.id, change)
    outbox.entries(ctx, change.entries)
    after = dict(locked)
    for balance in change.balances:
        after[(balance.member_id, balance.wallet)] = balance
    return Posted(tuple(change.entries), after)


def settle(
    ctx: Context, member_id: str, wallet: str, *, at: datetime | None = None, taking: bool = True
) -> tuple[Balance, list[Lot]]:
    """Write down what of the member's locked wallet has expired by ``at`` (now by default) and
    the expiry job has not written yet: one ``expire`` entry, dated and worded as the job's.
    A movement that takes from lots (``taking``) always looks; a credit only when the wallet's
    inactivity deadline has passed, and then reads the lots. Returns the balance after it and
    the wallet's open lots left (none read: empty).
    """
    key = (member_id, wallet)
    balance = ctx.uow.ledger.held([key])[key]
    moment = at or ctx.clock.now()
    policy = ctx.config.wallets.get(wallet)
    if not taking and lapsed_by_inactivity(policy, balance, moment, ctx.program.timezone) is None:
        return balance, []
    lots = ctx.uow.ledger.open_lots(member_id, wallet)
    expired, left = lapse(ctx, balance, lots, moment)
    if expired is None:
        return balance, lots
    _save(ctx, expired, {key: balance})
    return ctx.uow.ledger.held([key])[key], left


def lapse(
    ctx: Context, balance: Balance, lots: Sequence[Lot], at: datetime
) -> tuple[Change | None, list[Lot]]:
    """The plan that expires what of the wallet's open ``lots`` has lapsed by ``at`` (None when
    nothing has), by ``system``, dated and worded as the expiry job's entries; and the lots
    left."""
    policy = ctx.config.wallets.get(balance.wallet)
    timezone = ctx.program.timezone
    gone, dated = lapsed(policy, balance, lots, at, timezone)
    if not gone:
        return None, list(lots)
    reason = "inactivity" if lapsed_by_inactivity(policy, balance, at, timezone) else None
    header = replace(ctx.header("expire", dated or at, reason=reason), actor=SYSTEM.label)
    taken = {lot.id for lot in gone}
    return ledger.expire(balance, header, lots=gone), [lot for lot in lots if lot.id not in taken]


def earn(
    ctx: Context,
    member_id: str,
    *,
    wallet: str,
    amount: int,
    occurred_at: datetime | None = None,
    entry_type: str = "earn",
    key: str | None = None,
    reference: str | None = None,
    reason: str | None = None,
    explanation: Sequence[dict[str, Any]] = (),
    source: str = ledger.ISSUED,
    hold: bool = True,
    member: Member | None = None,
    key_is_new: bool = False,
) -> Posted:
    """Credit ``amount`` as a new lot: pending for the wallet's ``pending_days`` after
    ``occurred_at`` (unless ``hold`` is off), then available; expiring by the wallet's policy.
    ``member``, when the caller already loaded it in this transaction, spares a read;
    ``key_is_new``, when the caller proved in this transaction that ``key`` was never used
    (the unique index still guards it), spares the replay lookup.

    Raises: ValidationFailed, MemberNotFound, MemberInactive, BusinessKeyConflict.
    """
    check_amount(amount)
    policy = ctx.wallet(wallet)
    locked = ctx.uow.ledger.lock_balances(ctx.program.id, [(member_id, wallet)])
    earlier = (
        None
        if key_is_new
        else replay(
            ctx, key, member_id=member_id, wallet=wallet, entry_type=entry_type, amount=amount
        )
    )
    if earlier:
        return earlier
    if member is None or member.id != member_id:
        member_for(ctx, member_id, debit=False)
    now = ctx.clock.now()
    moment = occurred_at or now
    balance, _ = settle(ctx, member_id, wallet, at=moment, taking=False)
    available_at = moment + timedelta(days=policy.pending_days if hold else 0)
    header = ctx.header(
        entry_type,
        moment,
        key=key,
        reference=reference,
        reason=reason,
        explanation=tuple(explanation),
    )
    change = ledger.credit(
        balance,
        header,
        lots=[(new_id(), amount, moment, lot_expiry(policy, moment, ctx.program.timezone))],
        available_at=available_at,
        pending=available_at > now,
        source=source,
    )
    return _save(ctx, change, locked)


def debit(
    ctx: Context,
    member_id: str,
    *,
    wallet: str,
    amount: int,
    entry_type: str = "redeem",
    key: str | None = None,
    reference: str | None = None,
    reason: str | None = None,
    destination: str = ledger.REDEEMED,
    member: Member | None = None,
) -> Posted:
    """Take ``amount`` from the available balance, soonest-expiring lots first.
    ``member``, when the caller already loaded it in this transaction, spares a read; it must
    have been read after the balance lock, so that a freeze committed meanwhile is seen.

    Raises: ValidationFailed, MemberNotFound, MemberInactive, MemberFrozen, InsufficientBalance,
    BusinessKeyConflict.
    """
    check_amount(amount)
    ctx.wallet(wallet)
    locked = ctx.uow.ledger.lock_balances(ctx.program.id, [(member_id, wallet)])
    earlier = replay(
        ctx, key, member_id=member_id, wallet=wallet, entry_type=entry_type, amount=amount
    )
    if earlier:
        return earlier
    if member is None or member.id != member_id:
        member_for(ctx, member_id, debit=True)
    else:
        can_move(member, debit=True)
    balance, lots = settle(ctx, member_id, wallet)
    header = ctx.header(entry_type, ctx.clock.now(), key=key, reference=reference, reason=reason)
    change = ledger.debit(
        balance,
        header,
        lots=lots,
        amount=amount,
        destination=destination,
    )
    return _save(ctx, change, locked)


def cancel_debit(ctx: Context, entry_id: str, *, reason: str | None = None) -> Posted:
    """Give back a redemption: new lots with the original lots' earn and expiry dates.

    Raises: EntryNotFound, NotCancellable, AlreadyCancelled, MemberInactive.
    """
    original = ctx.uow.ledger.get_entry(ctx.program.id, entry_id)
    if original is None:
        raise EntryNotFound(f"no ledger entry {entry_id!r} in this program", entry=entry_id)
    if original.type != "redeem":
        raise NotCancellable(f"a {original.type} entry cannot be cancelled; only redemptions")
    key = (original.member_id, original.wallet)
    locked = ctx.uow.ledger.lock_balances(ctx.program.id, [key])
    if ctx.uow.ledger.cancellation_of(entry_id) is not None:
        raise AlreadyCancelled(f"entry {entry_id} was already cancelled", entry=entry_id)
    member_for(ctx, original.member_id, debit=False)
    consumed = ctx.uow.ledger.consumptions_of(entry_id)
    lots = {lot.id: lot for lot in ctx.uow.ledger.lots_by_id([c.lot_id for c in consumed])}
    # give back in redemption order, so the new lots sort exactly like the ones consumed
    taken = sorted(consumed, key=lambda c: ledger.fefo_key(lots[c.lot_id]))
    now = ctx.clock.now()
    balance, _ = settle(ctx, *key, taking=False)
    header = ctx.header(
        "redemption_cancel", now, reverses=entry_id, reference=original.reference, reason=reason
    )
    change = ledger.credit(
        balance,
        header,
        lots=[
            (new_id(), c.amount, lots[c.lot_id].earned_at, lots[c.lot_id].expires_at) for c in taken
        ],
        available_at=now,
        pending=False,
        source=ledger.REDEEMED,
    )
    return _save(ctx, change, locked)


def clawback(
    ctx: Context,
    member_id: str,
    *,
    wallet: str,
    amount: int,
    earned_by: str | None = None,
    key: str | None = None,
    reference: str | None = None,
    occurred_at: datetime | None = None,
) -> Posted:
    """Take back points of a refunded purchase: its own lots first, then other available lots;
    a shortfall leaves the available balance negative until later credits pay it.

    Raises: ValidationFailed, MemberNotFound, BusinessKeyConflict.
    """
    check_amount(amount)
    ctx.wallet(wallet)
    locked = ctx.uow.ledger.lock_balances(ctx.program.id, [(member_id, wallet)])
    earlier = replay(
        ctx, key, member_id=member_id, wallet=wallet, entry_type="refund", amount=amount
    )
    if earlier:
        return earlier
    if ctx.uow.members.get(ctx.program.id, member_id) is None:
        raise MemberNotFound(f"no member {member_id!r} in this program", member=member_id)
    balance, lots = settle(ctx, member_id, wallet)
    header = ctx.header("refund", occurred_at or ctx.clock.now(), key=key, reference=reference)
    change = ledger.clawback(
        balance,
        header,
        own_lots=[lot for lot in lots if earned_by and lot.entry_id == earned_by],
        other_lots=lots,
        amount=amount,
    )
    return _save(ctx, change, locked)


def adjust(
    ctx: Context, member_id: str, *, wallet: str, amount: int, reason: str, key: str | None = None
) -> Posted:
    """A manual correction: positive credits a new lot, negative debits (never below zero).

    Raises: ValidationFailed (zero amount, no reason), and what ``earn`` / ``debit`` raise.
    """
    if not reason or not reason.strip():
        raise ValidationFailed([FieldError("reason", "an adjustment needs a reason", "missing")])
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ValidationFailed([FieldError("amount", "must be a non-zero whole number")])
    if amount > 0:
        return earn(
            ctx,
            member_id,
            wallet=wallet,
            amount=amount,
            entry_type="adjust",
            key=key,
            reason=reason.strip(),
            source=ledger.ADJUSTMENTS,
            hold=False,  # staff corrections are not purchases: no return window
        )
    return debit(
        ctx,
        member_id,
        wallet=wallet,
        amount=-amount,
        entry_type="adjust",
        key=key,
        reason=reason.strip(),
        destination=ledger.ADJUSTMENTS,
    )


def transfer(
    ctx: Context,
    sender_id: str,
    recipient_id: str,
    *,
    wallet: str,
    amount: int,
    key: str | None = None,
    reason: str | None = None,
) -> Posted:
    """Move points between two members of the program; they keep their earn and expiry dates.

    Raises: ValidationFailed, MemberNotFound, MemberInactive, MemberFrozen (sender),
    InsufficientBalance, BusinessKeyConflict.
    """
    check_amount(amount)
    if sender_id == recipient_id:
        raise ValidationFailed([FieldError("to", "a member cannot transfer to themselves")])
    ctx.wallet(wallet)
    keys = [(sender_id, wallet), (recipient_id, wallet)]
    locked = ctx.uow.ledger.lock_balances(ctx.program.id, keys)
    earlier = replay(
        ctx, key, member_id=sender_id, wallet=wallet, entry_type="transfer", amount=amount
    )
    if earlier:
        incoming = ctx.uow.ledger.entry_by_key(ctx.program.id, f"{key}:in")
        both = (*earlier.entries, incoming) if incoming else earlier.entries
        return Posted(both, locked, replayed=True)
    member_for(ctx, sender_id, debit=True)
    member_for(ctx, recipient_id, debit=False)
    now = ctx.clock.now()
    sender, lots = settle(ctx, sender_id, wallet)
    recipient, _ = settle(ctx, recipient_id, wallet, taking=False)
    out_header = ctx.header("transfer", now, key=key, reference=recipient_id, reason=reason)
    sent = ledger.debit(
        sender,
        out_header,
        lots=lots,
        amount=amount,
        destination=ledger.TRANSFERS,
    )
    moved = {lot.id: lot for lot in sent.updated_lots}
    in_header = ctx.header(
        "transfer", now, key=f"{key}:in" if key else None, reference=sender_id, reason=reason
    )
    received = ledger.credit(
        recipient,
        in_header,
        lots=[
            (new_id(), c.amount, moved[c.lot_id].earned_at, moved[c.lot_id].expires_at)
            for c in sent.consumptions
        ],
        available_at=now,
        pending=False,
        source=ledger.TRANSFERS,
    )
    change = Change(
        entries=[*sent.entries, *received.entries],
        new_lots=received.new_lots,
        updated_lots=sent.updated_lots,
        consumptions=[*sent.consumptions, *received.consumptions],
        balances=[*sent.balances, *received.balances],
    )
    return _save(ctx, change, locked)


def close(
    ctx: Context, member_id: str, *, entry_type: str = "erase", reason: str | None = None
) -> Posted:
    """Bring every wallet of the member to zero: one entry per wallet with a non-zero balance
    (available, pending, or a deficit left by a clawback), against ``program:erased``; the
    member's open lots are consumed. The caller decides whether the member may still move
    (erasure closes balances whatever the status).

    Raises: MemberNotFound.
    """
    if ctx.uow.members.get(ctx.program.id, member_id) is None:
        raise MemberNotFound(f"no member {member_id!r} in this program", member=member_id)
    # Every wallet of the configuration too: locking creates the missing rows, so an earn
    # racing into a wallet the member never used waits for this transaction instead of slipping by.
    stored = {b.wallet for b in ctx.uow.ledger.balances(ctx.program.id, [member_id])}
    wallets = sorted(stored | set(ctx.config.wallets))
    locked = ctx.uow.ledger.lock_balances(ctx.program.id, [(member_id, w) for w in wallets])
    now = ctx.clock.now()
    change = Change()
    for wallet in wallets:
        balance, lots = settle(ctx, member_id, wallet)  # what had expired is expired, not erased
        planned = ledger.close(balance, ctx.header(entry_type, now, reason=reason), lots=lots)
        change.entries += planned.entries
        change.updated_lots += planned.updated_lots
        change.consumptions += planned.consumptions
        change.balances += planned.balances
    return _save(ctx, change, locked)
