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

The steps the use cases share (``Context``, ``Posted``, the checks, ``settle``, ``save``) are in
``ledger_steps``; all but ``save`` are re-exported here, where callers import them from.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from patron.domain import ledger
from patron.domain.errors import (
    AlreadyCancelled,
    EntryNotFound,
    FieldError,
    MemberNotFound,
    NotCancellable,
    ValidationFailed,
)
from patron.domain.expiry import lot_expiry
from patron.domain.ids import new_id
from patron.domain.ledger import Change
from patron.domain.members import Member
from patron.services.ledger_steps import (
    MAX_AMOUNT,
    Context,
    Posted,
    StoppedClock,
    can_move,
    check_amount,
    lapse,
    member_for,
    replay,
    save,
    settle,
)

__all__ = [
    "MAX_AMOUNT",
    "Context",
    "Posted",
    "StoppedClock",
    "adjust",
    "can_move",
    "cancel_debit",
    "check_amount",
    "clawback",
    "close",
    "debit",
    "earn",
    "lapse",
    "member_for",
    "replay",
    "settle",
    "transfer",
]


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
    return save(ctx, change, locked)


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
    return save(ctx, change, locked)


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
    return save(ctx, change, locked)


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
    return save(ctx, change, locked)


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
    return save(ctx, change, locked)


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
    return save(ctx, change, locked)
