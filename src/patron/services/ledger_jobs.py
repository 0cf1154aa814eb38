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

What has expired is gone before the job writes it down (``domain.expiry.lapsed``): balances
show it gone, and every movement writes it down first (``services.ledger.settle``). So the job
decides exactly as they do. An idle wallet expires at its inactivity deadline,
``inactivity_deadline``: the scan finds candidates by a bound on their last activity, and the
deadline decides. The release job does not release what has expired: it expires it, as a
debit would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from patron.domain import ledger
from patron.domain.config.wallets import AfterEarn, Inactivity
from patron.domain.expiry import idle_bounds, inactivity_deadline, lapsed_by_inactivity
from patron.domain.ledger import Balance, Change, Posting
from patron.services.ledger_steps import Context, lapse, save
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
        balance = locked[key]
        # What expired before it was released expires, as a debit would write it down first.
        expired, lots = lapse(ctx, balance, lots, now)
        if expired is not None:
            changes.append(expired)
            balance = expired.balances[0]
        due = [lot for lot in lots if lot.pending and lot.available_at <= now]
        if due:
            header = ctx.header("release", max(lot.available_at for lot in due))
            changes.append(ledger.release(balance, header, lots=due))
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
    at: Mapping[BalanceKey, datetime] | None
    """Each wallet's entry's ``occurred_at`` (its inactivity deadline); None dates each at the
    latest expiry of its lots."""
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
    timezone = ctx.program.timezone
    bounds = idle_bounds(policy, None, now, timezone)
    if bounds is None:
        return 0
    # The scan's bound lets through wallets a few days short of their deadline: page past them.
    keys: list[BalanceKey] = []
    after: str | None = None
    while len(keys) < limit:
        found = ctx.uow.ledger.idle_wallets(
            ctx.program.id, wallet, bounds, after=after, limit=limit
        )
        keys += [
            (idle.member_id, wallet)
            for idle in found
            if idle.last_activity_at is not None
            and (deadline := inactivity_deadline(policy, idle.last_activity_at, timezone))
            and deadline <= now
        ]
        if len(found) < limit:
            break
        after = found[-1].member_id
    if not keys:
        return 0
    locked = ctx.uow.ledger.lock_balances(ctx.program.id, keys[:limit])
    deadlines = {
        key: deadline
        for key in sorted(locked)
        if (deadline := lapsed_by_inactivity(policy, locked[key], now, timezone))
    }  # activity may have arrived after our scan
    due = _Due(locked, list(deadlines), until=None, at=deadlines, reason="inactivity")
    return expirer(ctx, due) if deadlines else 0


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
        at = due.at[key] if due.at else total.latest
        header = ctx.header("expire", at or ctx.clock.now(), reason=due.reason)
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
    save(ctx, change, due.locked)
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
        at = due.at[key] if due.at else latest
        header = ctx.header("expire", at or ctx.clock.now(), reason=due.reason)
        changes.append(ledger.expire(due.locked[key], header, lots=taken))
    return _save_all(ctx, changes, due.locked)


def _save_all(ctx: Context, changes: list[Change], locked: dict[BalanceKey, Balance]) -> int:
    """Write the changes of a batch's wallets as one change; how many wallets changed. Plans
    chained on one wallet (each from the balance the one before left) write its last balance."""
    merged = Change()
    balances: dict[BalanceKey, Balance] = {}
    for change in changes:
        merged.entries += change.entries
        merged.new_lots += change.new_lots
        merged.updated_lots += change.updated_lots
        merged.consumptions += change.consumptions
        balances.update({(b.member_id, b.wallet): b for b in change.balances})
    merged.balances = list(balances.values())
    if changes:
        save(ctx, merged, locked)
    return len(balances)
