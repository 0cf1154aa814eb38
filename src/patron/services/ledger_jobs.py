"""Scheduled ledger work: release pending points, expire lots. Idempotent, explicit ``now``.

Each call handles one batch of wallets in the caller's transaction and returns how many member
wallets it changed. A batch is set-based: one statement locks its balance rows, one reads their
open lots, and the changes of every wallet are written together (one multi-row statement per
table), so the cost per wallet is Python's, not a dozen round trips to the database. The job
runner calls again until a call returns 0, so a long run never holds one huge transaction and
a crash loses at most one uncommitted batch. Re-running for the same ``now``
changes nothing: released lots are no longer pending, expired lots have nothing remaining.

Expiry goes further and never brings a lot into Python: an expiry takes *everything* that
remains of the wallet's due lots, so its plan needs only two sums per wallet, what those lots
hold in pending and in available (and the latest expiry date, which dates the entry). Under the
batch's balance locks the database sums them (``expiry_totals``); Python writes one entry with
its postings, one version-checked balance and one fact per wallet, exactly as ``ledger.expire``
would; then one statement per batch consumes and empties the lots (``expire_lots``: no parameter
per lot), and the number of lots it touched must equal the number summed. The plan lot by lot in
Python stays as ``expire_due_planned``: the reference the tests compare the statements with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from patron.domain import ledger
from patron.domain.config.wallets import AfterEarn, Inactivity
from patron.domain.expiry import inactivity_cutoff
from patron.domain.ledger import Balance, Change, Posting
from patron.services.ledger import Context, _save
from patron.services.ports import BalanceKey

BATCH = 500


def release_due(ctx: Context, now: datetime, *, limit: int = BATCH) -> int:
    """Make pending lots whose return window has passed available."""
    keys = ctx.uow.ledger.due_for_release(ctx.program.id, now, limit)
    if not keys:
        return 0
    locked = ctx.uow.ledger.lock_balances(ctx.program.id, keys)
    changes = []
    for key, lots in ctx.uow.ledger.open_lots_of(keys).items():
        due = [lot for lot in lots if lot.pending and lot.available_at <= now]
        if not due:
            continue  # another run released them after our scan
        header = ctx.header("release", max(lot.available_at for lot in due))
        changes.append(ledger.release(locked[key], header, lots=due))
    return _save_all(ctx, changes, locked)


def expire_due(ctx: Context, now: datetime, *, limit: int = BATCH) -> int:
    """Expire lots past their date, and wallets past their inactivity deadline."""
    return _expire(ctx, now, limit, _expire_in_sql)


def expire_due_planned(ctx: Context, now: datetime, *, limit: int = BATCH) -> int:
    """``expire_due`` planned lot by lot in Python by ``ledger.expire``: the reference the
    set-based statements are tested against (same rows, same facts, same counts)."""
    return _expire(ctx, now, limit, _expire_planned)


@dataclass(frozen=True, slots=True)
class _Due:
    """A batch of locked wallets whose lots expire, and how their entries are written."""

    locked: dict[BalanceKey, Balance]
    keys: list[BalanceKey]
    until: datetime | None
    """Lots expiring by then; None takes every open lot (inactivity)."""
    at: datetime | None
    """The entries' ``occurred_at``; None dates each at the latest expiry of its lots."""
    reason: str | None = None


Expirer = Callable[[Context, _Due], int]
"""Expires a batch; how many wallets it changed."""


def _expire(ctx: Context, now: datetime, limit: int, expirer: Expirer) -> int:
    changed = 0
    if any(isinstance(w.expiry, AfterEarn) for w in ctx.config.wallets.values()):
        keys = ctx.uow.ledger.due_for_expiry(ctx.program.id, now, limit)
        if keys:
            locked = ctx.uow.ledger.lock_balances(ctx.program.id, keys)
            changed += expirer(ctx, _Due(locked, keys, until=now, at=None))
    for code, wallet in ctx.config.wallets.items():
        if isinstance(wallet.expiry, Inactivity):
            changed += _expire_inactive(ctx, code, now, limit, expirer)
    return changed


def _expire_inactive(ctx: Context, wallet: str, now: datetime, limit: int, expirer: Expirer) -> int:
    policy = ctx.config.wallets[wallet]
    cutoff = inactivity_cutoff(policy, now, ctx.program.timezone)
    if cutoff is None:
        return 0
    keys = ctx.uow.ledger.inactive_since(ctx.program.id, wallet, cutoff, limit)
    if not keys:
        return 0
    locked = ctx.uow.ledger.lock_balances(ctx.program.id, keys)
    idle = [
        key for key in keys if (seen := locked[key].last_activity_at) is not None and seen <= cutoff
    ]  # activity may have arrived after our scan
    due = _Due(locked, idle, until=None, at=now, reason="inactivity")
    return expirer(ctx, due) if idle else 0


def _expire_in_sql(ctx: Context, due: _Due) -> int:
    """Two aggregate facts per wallet are all the plan needs: what the expiring lots hold in
    pending and in available. The database sums them; Python writes one entry and one balance
    per wallet; the database then consumes and empties the lots themselves."""
    totals = ctx.uow.ledger.expiry_totals(due.keys, due.until)
    change = Change()
    for key in due.keys:
        total = totals.get(key)
        if total is None:
            continue  # another run expired them after our scan
        balance = due.locked[key]
        postings = [
            Posting(account, ledger.EXPIRED, part)
            for account, part in (
                (ledger.PENDING, total.from_pending),
                (ledger.AVAILABLE, total.from_available),
            )
            if part
        ]
        header = ctx.header("expire", due.at or total.latest or ctx.clock.now(), reason=due.reason)
        change.entries.append(header.entry(balance, postings, "posted"))
        change.balances.append(
            replace(
                balance,
                available=balance.available - total.from_available,
                pending=balance.pending - total.from_pending,
            )
        )
    if not change.entries:
        return 0
    _save(ctx, change, due.locked)
    expired = ctx.uow.ledger.expire_lots(
        {(entry.member_id, entry.wallet): entry.id for entry in change.entries}, due.until
    )
    summed = sum(totals[(e.member_id, e.wallet)].lots for e in change.entries)
    if expired != summed:  # the balance locks make this impossible: refuse, never corrupt
        raise RuntimeError(f"the expiry summed {summed} lots but consumed {expired}")
    return len(change.entries)


def _expire_planned(ctx: Context, due: _Due) -> int:
    changes = []
    for key, lots in ctx.uow.ledger.open_lots_of(due.keys).items():
        until = due.until
        taken = [
            lot
            for lot in lots
            if until is None or (lot.expires_at is not None and lot.expires_at <= until)
        ]
        if not taken and until is not None:
            continue
        latest = max((lot.expires_at for lot in taken if lot.expires_at), default=None)
        header = ctx.header("expire", due.at or latest or ctx.clock.now(), reason=due.reason)
        changes.append(ledger.expire(due.locked[key], header, lots=taken))
    return _save_all(ctx, changes, due.locked)


def _save_all(ctx: Context, changes: list[Change], locked: dict[BalanceKey, Balance]) -> int:
    """Write the changes of a batch's wallets as one change; how many wallets changed."""
    merged = Change()
    for change in changes:
        merged.entries += change.entries
        merged.new_lots += change.new_lots
        merged.updated_lots += change.updated_lots
        merged.consumptions += change.consumptions
        merged.balances += change.balances
    if changes:
        _save(ctx, merged, locked)
    return len(changes)
