"""Storage of segment definitions (membership is computed, never stored)."""

from __future__ import annotations

from dataclasses import fields

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.services.ports import Segment

_s = t.segments.c
_COLUMNS = [f.name for f in fields(Segment)]


class SqlSegmentRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, segment: Segment) -> None:
        self._conn.execute(t.segments.insert(), [{n: getattr(segment, n) for n in _COLUMNS}])

    def get(self, program_id: str, code: str) -> Segment | None:
        row = self._conn.execute(
            sa.select(*(_s[n] for n in _COLUMNS)).where(
                _s.program_id == program_id, _s.code == code
            )
        ).first()
        return Segment(**row._asdict()) if row else None

    def all(self, program_id: str) -> list[Segment]:
        rows = self._conn.execute(
            sa.select(*(_s[n] for n in _COLUMNS))
            .where(_s.program_id == program_id)
            .order_by(_s.code)
        )
        return [Segment(**row._asdict()) for row in rows]
