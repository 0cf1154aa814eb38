"""Storage of the tier each member holds, its history, and staff or paid grants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.domain.ids import new_id
from patron.domain.tiers import Grant
from patron.services.ports import HeldTier, TierChange

_m = t.member_tiers.c
_h = t.tier_history.c
_g = t.tier_grants.c


# Read by every tier re-evaluation (after each purchase, refund and event): built once.
_HELD = sa.select(_m.member_id, _m.code, _m.since, _m.until, _m.cause, _m.best_ever).where(
    _m.member_id == sa.bindparam("m")
)
_GRANTS = (
    sa.select(_g.code, _g.until, _g.paid)
    .where(_g.member_id == sa.bindparam("m"))
    .order_by(_g.created_at.desc(), _g.id.desc())
)


class SqlTierRepository:
    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def held(self, member_id: str) -> HeldTier | None:
        row = self._conn.execute(_HELD, {"m": member_id}).first()
        return HeldTier(**row._asdict()) if row else None

    def held_many(self, member_ids: Sequence[str]) -> dict[str, HeldTier]:
        if not member_ids:
            return {}
        rows = self._conn.execute(
            sa.select(_m.member_id, _m.code, _m.since, _m.until, _m.cause, _m.best_ever).where(
                _m.member_id.in_(list(member_ids))
            )
        )
        return {row.member_id: HeldTier(**row._asdict()) for row in rows}

    def hold(self, program_id: str, tier: HeldTier) -> None:
        values = {f.name: getattr(tier, f.name) for f in fields(tier)}
        stmt = self._insert(t.member_tiers).values(program_id=program_id, **values)
        changed = {k: v for k, v in values.items() if k != "member_id"}
        self._conn.execute(stmt.on_conflict_do_update(index_elements=[_m.member_id], set_=changed))
        self._conn.execute(
            t.members.update().where(t.members.c.id == tier.member_id).values(tier_code=tier.code)
        )

    def add_change(self, change: TierChange) -> None:
        self._conn.execute(
            t.tier_history.insert(), [{f.name: getattr(change, f.name) for f in fields(change)}]
        )

    def history(self, member_id: str) -> list[TierChange]:
        columns = [_h[f.name] for f in fields(TierChange)]
        rows = self._conn.execute(
            sa.select(*columns).where(_h.member_id == member_id).order_by(_h.at, _h.id)
        )
        return [TierChange(**row._asdict()) for row in rows]

    def history_of(self, member_ids: Sequence[str]) -> dict[str, list[TierChange]]:
        """``history`` of each member, in one statement (each list in the same order)."""
        found: dict[str, list[TierChange]] = {m: [] for m in member_ids}
        if not member_ids:
            return found
        columns = [_h[f.name] for f in fields(TierChange)]
        rows = self._conn.execute(
            sa.select(*columns)
            .where(_h.member_id.in_(list(member_ids)))
            .order_by(_h.member_id, _h.at, _h.id)
        )
        for row in rows:
            found[row.member_id].append(TierChange(**row._asdict()))
        return found

    def grants(self, member_id: str) -> list[Grant]:
        rows = self._conn.execute(_GRANTS, {"m": member_id})
        return [Grant(r.code, r.until, r.paid) for r in rows]

    def grants_of(self, member_ids: Sequence[str]) -> dict[str, list[Grant]]:
        """``grants`` of each member, in one statement (each list in the same order)."""
        found: dict[str, list[Grant]] = {m: [] for m in member_ids}
        if not member_ids:
            return found
        rows = self._conn.execute(
            sa.select(_g.member_id, _g.code, _g.until, _g.paid)
            .where(_g.member_id.in_(list(member_ids)))
            .order_by(_g.created_at.desc(), _g.id.desc())
        )
        for r in rows:
            found[r.member_id].append(Grant(r.code, r.until, r.paid))
        return found

    def add_grant(
        self, program_id: str, member_id: str, grant: Grant, reason: str, actor: str, at: datetime
    ) -> None:
        self._conn.execute(
            t.tier_grants.insert().values(
                id=new_id(),
                program_id=program_id,
                member_id=member_id,
                code=grant.code,
                until=grant.until,
                paid=grant.paid,
                reason=reason,
                actor=actor,
                created_at=at,
            )
        )

    def due(
        self,
        program_id: str,
        now: datetime,
        *,
        open_ended_above: str | None,
        after: str | None,
        limit: int,
    ) -> list[str]:
        lapsing = _m.until <= now
        if open_ended_above is not None:
            lapsing = sa.or_(lapsing, sa.and_(_m.until.is_(None), _m.code != open_ended_above))
        conditions = [_m.program_id == program_id, lapsing]
        if after is not None:
            conditions.append(_m.member_id > after)
        stmt = sa.select(_m.member_id).where(*conditions).order_by(_m.member_id).limit(limit)
        return [r.member_id for r in self._conn.execute(stmt)]
