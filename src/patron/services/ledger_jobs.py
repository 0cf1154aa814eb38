"""Scheduled ledger work: release pending points, expire lots. Idempotent, explicit ``now``.

Each call handles one batch of wallets in the caller's transaction and returns how many member
wallets it changed. A batch is set-based: one statement locks its balance rows, one reads their
open lots, and the changes of every wallet are written together (one multi-row statement per
table), so the cost per wallet is Python's, not a dozen round trips to the database. The job
runner calls again until a call returns 0, so a long run never holds one huge transaction and
a crash loses at most one uncommitted batch. Re-running for the same ``now``
changes nothing: released lots are no longer pending, expired lots have nothing remaining.
"""

from __future__ import annotations

from datetime import datetime

from patron.domain import ledger
from patron.domain.config.wallets import AfterEarn, Inactivity
from patron.domain.expiry import inactivity_cutoff
from patron.domain.ledger import Balance, Change
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
    changed = 0
    if any(isinstance(w.expiry, AfterEarn) for w in ctx.config.wallets.values()):
        changed += _expire_dated(ctx, now, limit)
    for code, wallet in ctx.config.wallets.items():
        if isinstance(wallet.expiry, Inactivity):
            changed += _expire_inactive(ctx, code, now, limit)
    return changed


def _expire_dated(ctx: Context, now: datetime, limit: int) -> int:
    keys = ctx.uow.ledger.due_for_expiry(ctx.program.id, now, limit)
    if not keys:
        return 0
    locked = ctx.uow.ledger.lock_balances(ctx.program.id, keys)
    changes = []
    for key, lots in ctx.uow.ledger.open_lots_of(keys).items():
        due = [lot for lot in lots if lot.expires_at is not None and lot.expires_at <= now]
        if not due:
            continue
        header = ctx.header("expire", max(lot.expires_at or now for lot in due))
        changes.append(ledger.expire(locked[key], header, lots=due))
    return _save_all(ctx, changes, locked)


def _expire_inactive(ctx: Context, wallet: str, now: datetime, limit: int) -> int:
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
    changes = []
    for key, lots in ctx.uow.ledger.open_lots_of(idle).items():
        header = ctx.header("expire", now, reason="inactivity")
        changes.append(ledger.expire(locked[key], header, lots=lots))
    return _save_all(ctx, changes, locked)


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
