"""Storage of bulk grants and their progress."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.services.ports import BulkGrant

_g = t.grants.c
_COLUMNS = [f.name for f in fields(BulkGrant)]


class SqlGrantRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, grant: BulkGrant) -> None:
        self._conn.execute(t.grants.insert(), [{n: getattr(grant, n) for n in _COLUMNS}])

    def get(self, program_id: str, external_id: str) -> BulkGrant | None:
        row = self._conn.execute(
            sa.select(*(_g[n] for n in _COLUMNS)).where(
                _g.program_id == program_id, _g.external_id == external_id
            )
        ).first()
        return BulkGrant(**row._asdict()) if row else None

    def progress(self, grant_id: str, granted: int, status: str, at: datetime | None) -> None:
        self._conn.execute(
            t.grants.update()
            .where(_g.id == grant_id)
            .values(granted=_g.granted + granted, status=status, finished_at=at)
        )
