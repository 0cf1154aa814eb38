"""Recording business facts (``tier.changed``, ``reward.redeemed``, ...) in the outbox.

Facts are written in the same transaction as the change, so a fact exists exactly when its
change committed; delivery to webhooks and message channels happens after commit, elsewhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from patron.domain.ids import new_id
from patron.domain.ledger import Entry
from patron.domain.timestamps import rfc3339
from patron.services.ports import OutboxEvent, UnitOfWork

if TYPE_CHECKING:
    from patron.services.ledger import Context


ENTRY_FACTS = {
    "earn": "points.earned",
    "release": "points.released",
    "redeem": "points.redeemed",
    "expire": "points.expired",
    "adjust": "points.adjusted",
    "transfer": "points.transferred",
}
"""The fact each kind of ledger entry publishes (refunds publish ``purchase.refunded``,
referrals ``referral.completed``, cancellations ``redemption.cancelled``)."""


def emit(ctx: Context, event_type: str, subject: str | None, payload: dict[str, Any]) -> None:
    record(ctx.uow, ctx.program.id, ctx.clock.now(), event_type, subject, payload)


def record(
    uow: UnitOfWork,
    program_id: str,
    at: datetime,
    event_type: str,
    subject: str | None,
    payload: dict[str, Any],
) -> None:
    uow.outbox.add(
        OutboxEvent(
            id=new_id(),
            program_id=program_id,
            type=event_type,
            subject=subject,
            payload=payload,
            occurred_at=at,
        )
    )


def entries(ctx: Context, posted: list[Entry]) -> None:
    """The facts of a change's entries, written in one statement."""
    at = ctx.clock.now()
    ctx.uow.outbox.add_many(
        [
            OutboxEvent(
                id=new_id(),
                program_id=ctx.program.id,
                type=fact,
                subject=entry.member_id,
                payload={
                    "member_id": entry.member_id,
                    "entry_id": entry.id,
                    "wallet": entry.wallet,
                    "amount": entry.amount,
                    "status": entry.status,
                    "reference": entry.reference,
                    "occurred_at": rfc3339(entry.occurred_at),
                },
                occurred_at=at,
            )
            for entry in posted
            if (fact := ENTRY_FACTS.get(entry.type)) is not None
        ]
    )
