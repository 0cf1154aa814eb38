"""Recording business facts (``tier.changed``, ``reward.redeemed``, ...) in the outbox.

Facts are written in the same transaction as the change, so a fact exists exactly when its
change committed; delivery to webhooks and message channels happens after commit, elsewhere.
"""

from __future__ import annotations

from typing import Any

from patron.domain.ids import new_id
from patron.services.ledger import Context
from patron.services.ports import OutboxEvent


def emit(ctx: Context, event_type: str, subject: str | None, payload: dict[str, Any]) -> None:
    ctx.uow.outbox.add(
        OutboxEvent(
            id=new_id(),
            program_id=ctx.program.id,
            type=event_type,
            subject=subject,
            payload=payload,
            occurred_at=ctx.clock.now(),
        )
    )
