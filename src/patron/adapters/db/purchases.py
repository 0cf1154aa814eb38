"""Storage of purchases and of the awards each rule gave them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.services.ports import StoredAward, StoredPurchase

_p = t.purchases.c
_a = t.purchase_awards.c
_PURCHASE_COLUMNS = [f.name for f in fields(StoredPurchase)]
_BY_KEY = sa.select(*(_p[name] for name in _PURCHASE_COLUMNS)).where(
    _p.program_id == sa.bindparam("p"), _p.external_id == sa.bindparam("k")
)
_COUNT = (
    sa.select(sa.func.count()).select_from(t.purchases).where(_p.member_id == sa.bindparam("m"))
)


class SqlPurchaseRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, program_id: str, external_id: str) -> StoredPurchase | None:
        row = self._conn.execute(_BY_KEY, {"p": program_id, "k": external_id}).first()
        return StoredPurchase(**row._asdict()) if row else None

    def add(self, purchase: StoredPurchase) -> None:
        self._conn.execute(t.purchases.insert(), [asdict(purchase)])

    def add_awards(self, awards: Sequence[StoredAward]) -> None:
        if awards:
            self._conn.execute(t.purchase_awards.insert(), [asdict(a) for a in awards])

    def count_for_member(self, member_id: str) -> int:
        return int(self._conn.execute(_COUNT, {"m": member_id}).scalar_one())

    def award_moments(self, member_id: str, rule_ids: Sequence[str]) -> list[tuple[str, datetime]]:
        if not rule_ids:
            return []
        stmt = sa.select(_a.rule_id, _a.occurred_at).where(
            _a.member_id == member_id, _a.rule_id.in_(list(rule_ids))
        )
        return [(r.rule_id, r.occurred_at) for r in self._conn.execute(stmt)]

    def budget_used(self, program_id: str, rule_ids: Sequence[str]) -> dict[str, int]:
        if not rule_ids:
            return {}
        stmt = (
            sa.select(_a.rule_id, sa.func.sum(_a.amount))
            .where(_a.program_id == program_id, _a.rule_id.in_(list(rule_ids)))
            .group_by(_a.rule_id)
        )
        return {r[0]: int(r[1]) for r in self._conn.execute(stmt)}
