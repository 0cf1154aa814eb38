"""Storage of referrals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.services.ports import Referral

_r = t.referrals.c
_COLUMNS = [f.name for f in fields(Referral)]


class SqlReferralRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, referral: Referral) -> None:
        self._conn.execute(t.referrals.insert(), [{n: getattr(referral, n) for n in _COLUMNS}])

    def update(self, referral: Referral) -> None:
        self._conn.execute(
            t.referrals.update()
            .where(_r.id == referral.id)
            .values(
                status=referral.status,
                reason=referral.reason,
                purchase=referral.purchase,
                completed_at=referral.completed_at,
            )
        )

    def of_referee(self, referee_id: str) -> Referral | None:
        row = self._conn.execute(
            sa.select(*(_r[n] for n in _COLUMNS)).where(_r.referee_id == referee_id)
        ).first()
        return Referral(**row._asdict()) if row else None

    def of_referees(self, referee_ids: Sequence[str]) -> dict[str, Referral | None]:
        """``of_referee`` of each member, in one statement."""
        found: dict[str, Referral | None] = dict.fromkeys(referee_ids)
        if referee_ids:
            rows = self._conn.execute(
                sa.select(*(_r[n] for n in _COLUMNS)).where(_r.referee_id.in_(list(referee_ids)))
            )
            for row in rows:
                found[row.referee_id] = Referral(**row._asdict())
        return found

    def of_referrer(self, referrer_id: str) -> list[Referral]:
        rows = self._conn.execute(
            sa.select(*(_r[n] for n in _COLUMNS))
            .where(_r.referrer_id == referrer_id)
            .order_by(_r.created_at, _r.id)
        )
        return [Referral(**row._asdict()) for row in rows]
