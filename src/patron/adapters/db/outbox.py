"""The transactional outbox: facts written with the change that caused them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.services.ports import OutboxEvent

_o = t.outbox.c
_COLUMNS = [f.name for f in fields(OutboxEvent)]


class SqlOutboxRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, event: OutboxEvent) -> None:
        self.add_many([event])

    def add_many(self, events: Sequence[OutboxEvent]) -> None:
        if events:
            self._conn.execute(
                t.outbox.insert(), [{n: getattr(e, n) for n in _COLUMNS} for e in events]
            )

    def pending(self, program_id: str, limit: int) -> list[OutboxEvent]:
        rows = self._conn.execute(
            sa.select(*(_o[n] for n in _COLUMNS))
            .where(_o.program_id == program_id, _o.published_at.is_(None))
            .order_by(_o.id)
            .limit(limit)
        )
        return [OutboxEvent(**row._asdict()) for row in rows]

    def exists(self, program_id: str, event_type: str, subject: str) -> bool:
        found = self._conn.execute(
            sa.select(_o.id)
            .where(_o.program_id == program_id, _o.type == event_type, _o.subject == subject)
            .limit(1)
        ).first()
        return found is not None
