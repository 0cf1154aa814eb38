"""What a reminder announces: each member's points expiring in a window of time, by wallet.

Dated lots expire on their own date. An idle wallet (``expiry.mode: inactivity``) expires whole
at its deadline, ``months`` after the member's last activity: everything it holds then,
available and pending. Activity moves the deadline, so a reminder names the day it announces
and a moved deadline is announced again for its new day (``services.jobs.reminders``).
"""

from __future__ import annotations

from datetime import datetime

from patron.domain.config.wallets import Inactivity, Wallet
from patron.domain.expiry import idle_bounds, inactivity_deadline
from patron.services.ledger import Context

PAGE = 1000


def expiring_between(
    ctx: Context, code: str, wallet: Wallet, start: datetime, end: datetime
) -> dict[str, int]:
    """Member id → what of wallet ``code`` expires in ``[start, end)``."""
    totals: dict[str, int] = {}
    if not isinstance(wallet.expiry, Inactivity):
        for member_id, _, amount in ctx.uow.ledger.expiring_between(
            ctx.program.id, code, start, end
        ):
            totals[member_id] = totals.get(member_id, 0) + amount
        return totals
    timezone = ctx.program.timezone
    bounds = idle_bounds(wallet, start, end, timezone)
    assert bounds is not None
    after: str | None = None
    while True:
        found = ctx.uow.ledger.idle_wallets(ctx.program.id, code, bounds, after=after, limit=PAGE)
        for balance in found:
            assert balance.last_activity_at is not None
            deadline = inactivity_deadline(wallet, balance.last_activity_at, timezone)
            if deadline is not None and start <= deadline < end:
                totals[balance.member_id] = max(balance.available, 0) + balance.pending
        if len(found) < PAGE:
            return totals
        after = found[-1].member_id
