"""Scheduled ledger work: release pending points, expire lots. Idempotent, explicit ``now``.

Each call handles one batch in the caller's transaction and returns how many member wallets it
changed; a job runner calls it again until it returns 0, so a long run never holds one huge
transaction and a crash loses at most one uncommitted batch. Re-running for the same ``now``
changes nothing: released lots are no longer pending, expired lots have nothing remaining.
"""

from __future__ import annotations

from datetime import datetime

from patron.domain import ledger
from patron.domain.config.wallets import AfterEarn, Inactivity
from patron.domain.expiry import inactivity_cutoff
from patron.services.ledger import Context, _save

BATCH = 200


def release_due(ctx: Context, now: datetime, *, limit: int = BATCH) -> int:
    """Make pending lots whose return window has passed available."""
    keys = ctx.uow.ledger.due_for_release(ctx.program.id, now, limit)
    if not keys:
        return 0
    locked = ctx.uow.ledger.lock_balances(ctx.program.id, keys)
    changed = 0
    for member_id, wallet in keys:
        due = [
            lot
            for lot in ctx.uow.ledger.open_lots(member_id, wallet)
            if lot.pending and lot.available_at <= now
        ]
        if not due:
            continue  # another run released them after our scan
        header = ctx.header("release", max(lot.available_at for lot in due))
        change = ledger.release(locked[(member_id, wallet)], header, lots=due)
        _save(ctx, change, locked)
        changed += 1
    return changed


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
    changed = 0
    for member_id, wallet in keys:
        due = [
            lot
            for lot in ctx.uow.ledger.open_lots(member_id, wallet)
            if lot.expires_at is not None and lot.expires_at <= now
        ]
        if not due:
            continue
        header = ctx.header("expire", max(lot.expires_at or now for lot in due))
        _save(ctx, ledger.expire(locked[(member_id, wallet)], header, lots=due), locked)
        changed += 1
    return changed


def _expire_inactive(ctx: Context, wallet: str, now: datetime, limit: int) -> int:
    policy = ctx.config.wallets[wallet]
    cutoff = inactivity_cutoff(policy, now, ctx.program.timezone)
    if cutoff is None:
        return 0
    keys = ctx.uow.ledger.inactive_since(ctx.program.id, wallet, cutoff, limit)
    if not keys:
        return 0
    locked = ctx.uow.ledger.lock_balances(ctx.program.id, keys)
    changed = 0
    for key in keys:
        balance = locked[key]
        if balance.last_activity_at is None or balance.last_activity_at > cutoff:
            continue  # activity arrived after our scan
        lots = ctx.uow.ledger.open_lots(*key)
        header = ctx.header("expire", now, reason="inactivity")
        _save(ctx, ledger.expire(balance, header, lots=lots), locked)
        changed += 1
    return changed
