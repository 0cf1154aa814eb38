"""Storage of campaigns, and their results from the awards they gave."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.services.ports import Campaign

_c = t.campaigns.c
_a = t.purchase_awards.c
_ea = t.event_awards.c
_COLUMNS = [f.name for f in fields(Campaign)]


# Read before every purchase and event: built once.
_LIVE = (
    sa.select(*(_c[n] for n in _COLUMNS))
    .where(
        _c.program_id == sa.bindparam("p"),
        _c.status == "active",
        _c.start <= sa.bindparam("at"),
        _c.end > sa.bindparam("at"),
    )
    .order_by(_c.code)
)
_ACTIVE = (
    sa.select(*(_c[n] for n in _COLUMNS))
    .where(_c.program_id == sa.bindparam("p"), _c.status == "active")
    .order_by(_c.code)
)


class SqlCampaignRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, campaign: Campaign) -> None:
        self._conn.execute(t.campaigns.insert(), [{n: getattr(campaign, n) for n in _COLUMNS}])

    def update(self, campaign: Campaign) -> None:
        values = {n: getattr(campaign, n) for n in _COLUMNS if n not in ("id", "program_id")}
        self._conn.execute(t.campaigns.update().where(_c.id == campaign.id).values(**values))

    def get(self, program_id: str, code: str) -> Campaign | None:
        row = self._conn.execute(
            sa.select(*(_c[n] for n in _COLUMNS)).where(
                _c.program_id == program_id, _c.code == code
            )
        ).first()
        return Campaign(**row._asdict()) if row else None

    def live(self, program_id: str, at: datetime) -> list[Campaign]:
        rows = self._conn.execute(_LIVE, {"p": program_id, "at": at})
        return [Campaign(**row._asdict()) for row in rows]

    def active(self, program_id: str) -> list[Campaign]:
        """Every active campaign, in the order ``live`` answers: ``live`` at any moment is the
        sub-list whose window holds it."""
        rows = self._conn.execute(_ACTIVE, {"p": program_id})
        return [Campaign(**row._asdict()) for row in rows]

    def awarded(self, program_id: str, rule_prefix: str) -> tuple[int, int]:
        """What the campaign's rules awarded, on purchases and on events alike."""
        given = sa.union_all(
            *(
                sa.select(c.member_id, c.amount).where(
                    c.program_id == program_id, c.rule_id.startswith(rule_prefix, autoescape=True)
                )
                for c in (_a, _ea)
            )
        ).subquery()
        row = self._conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(given.c.amount), 0),
                sa.func.count(sa.distinct(given.c.member_id)),
            )
        ).one()
        return int(row[0]), int(row[1])
