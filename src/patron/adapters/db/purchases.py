"""Storage of purchases and of the awards each rule gave them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.adapters.db.types import UtcDateTime
from patron.services.ports import (
    PurchaseTotals,
    StoredAward,
    StoredEvent,
    StoredEventAward,
    StoredPurchase,
    StoredRefund,
)

_p = t.purchases.c
_a = t.purchase_awards.c
_ea = t.event_awards.c
_ev = t.activity_events.c
_r = t.refunds.c
_PURCHASE_COLUMNS = [f.name for f in fields(StoredPurchase)]
_BY_KEY = sa.select(*(_p[name] for name in _PURCHASE_COLUMNS)).where(
    _p.program_id == sa.bindparam("p"), _p.external_id == sa.bindparam("k")
)
_COUNT = (
    sa.select(sa.func.count()).select_from(t.purchases).where(_p.member_id == sa.bindparam("m"))
)


def _totals(since: bool, until: bool, *, many: bool = False) -> sa.Select[Any]:
    # Not fully refunded: something eligible is left, or nothing was eligible to begin with.
    standing = sa.or_(_p.eligible_left > 0, _p.eligible_amount == 0)
    conditions = [
        _p.member_id.in_(sa.bindparam("m", expanding=True))
        if many
        else _p.member_id == sa.bindparam("m")
    ]
    if since:
        conditions.append(_p.occurred_at >= sa.bindparam("since", type_=UtcDateTime))
    if until:
        conditions.append(_p.occurred_at < sa.bindparam("until", type_=UtcDateTime))
    figures = (
        sa.func.coalesce(sa.func.sum(_p.eligible_left), 0),
        sa.func.count().filter(standing),
        sa.type_coerce(sa.func.max(sa.case((standing, _p.occurred_at))), UtcDateTime),
    )
    if many:
        return sa.select(_p.member_id, *figures).where(*conditions).group_by(_p.member_id)
    return sa.select(*figures).where(*conditions)


# One statement per window shape, built once (the tier metric runs on every earn).
_TOTALS = {(s, u): _totals(s, u) for s in (False, True) for u in (False, True)}
_TOTALS_MANY = {(s, u): _totals(s, u, many=True) for s in (False, True) for u in (False, True)}


def _row(record: object) -> dict[str, Any]:
    """A dataclass as a row, without the deep copy ``dataclasses.asdict`` makes of documents."""
    return {f.name: getattr(record, f.name) for f in fields(record)}  # type: ignore[arg-type]


# Read before every purchase and event of a program with limited rules: built once.
_AWARD_MOMENTS = sa.union_all(
    sa.select(_a.rule_id, _a.occurred_at).where(
        _a.member_id == sa.bindparam("m"), _a.rule_id.in_(sa.bindparam("rules", expanding=True))
    ),
    sa.select(_ea.rule_id, _ea.occurred_at).where(
        _ea.member_id == sa.bindparam("m"), _ea.rule_id.in_(sa.bindparam("rules", expanding=True))
    ),
)

# Read before every purchase and event of a program with budgeted rules: built once.
_BUDGET_USED = sa.union_all(
    *(
        sa.select(c.rule_id, sa.func.sum(c.amount))
        .where(
            c.program_id == sa.bindparam("p"),
            c.rule_id.in_(sa.bindparam("rules", expanding=True)),
        )
        .group_by(c.rule_id)
        for c in (_a, _ea)
    )
)


class SqlPurchaseRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, program_id: str, external_id: str) -> StoredPurchase | None:
        row = self._conn.execute(_BY_KEY, {"p": program_id, "k": external_id}).first()
        return StoredPurchase(**row._asdict()) if row else None

    def add(self, purchase: StoredPurchase) -> None:
        self._conn.execute(t.purchases.insert(), [_row(purchase)])

    def add_awards(self, awards: Sequence[StoredAward]) -> None:
        if awards:
            self._conn.execute(t.purchase_awards.insert(), [_row(a) for a in awards])

    def attach(
        self, purchase_id: str, member_id: str, config_version: int, result: dict[str, Any]
    ) -> None:
        self._conn.execute(
            t.purchases.update()
            .where(_p.id == purchase_id, _p.member_id.is_(None))
            .values(member_id=member_id, config_version=config_version, result=result)
        )

    def count_for_member(self, member_id: str) -> int:
        return int(self._conn.execute(_COUNT, {"m": member_id}).scalar_one())

    def award_moments(self, member_id: str, rule_ids: Sequence[str]) -> list[tuple[str, datetime]]:
        if not rule_ids:
            return []
        rows = self._conn.execute(_AWARD_MOMENTS, {"m": member_id, "rules": list(rule_ids)})
        return [(r.rule_id, r.occurred_at) for r in rows]

    def get_many(self, program_id: str, external_ids: Sequence[str]) -> dict[str, StoredPurchase]:
        """The purchases with these business keys (absent keys are missing from the answer)."""
        if not external_ids:
            return {}
        columns = [_p[name] for name in _PURCHASE_COLUMNS]
        rows = self._conn.execute(
            sa.select(*columns).where(
                _p.program_id == program_id, _p.external_id.in_(list(external_ids))
            )
        )
        return {row.external_id: StoredPurchase(**row._asdict()) for row in rows}

    def counts_for_members(self, member_ids: Sequence[str]) -> dict[str, int]:
        """``count_for_member`` of each member, in one statement."""
        if not member_ids:
            return {}
        rows = self._conn.execute(
            sa.select(_p.member_id, sa.func.count())
            .where(_p.member_id.in_(list(member_ids)))
            .group_by(_p.member_id)
        )
        found = {row[0]: int(row[1]) for row in rows}
        return {m: found.get(m, 0) for m in member_ids}

    def award_moments_of(
        self, member_ids: Sequence[str], rule_ids: Sequence[str]
    ) -> dict[str, list[tuple[str, datetime]]]:
        """``award_moments`` of each member, in one statement."""
        found: dict[str, list[tuple[str, datetime]]] = {m: [] for m in member_ids}
        if not member_ids or not rule_ids:
            return found
        stmt = sa.union_all(
            sa.select(_a.member_id, _a.rule_id, _a.occurred_at).where(
                _a.member_id.in_(list(member_ids)), _a.rule_id.in_(list(rule_ids))
            ),
            sa.select(_ea.member_id, _ea.rule_id, _ea.occurred_at).where(
                _ea.member_id.in_(list(member_ids)), _ea.rule_id.in_(list(rule_ids))
            ),
        )
        for row in self._conn.execute(stmt):
            found[row.member_id].append((row.rule_id, row.occurred_at))
        return found

    def totals_of(
        self, member_ids: Sequence[str], since: datetime | None, until: datetime | None
    ) -> dict[str, PurchaseTotals]:
        """``totals`` of each member for one window, in one statement."""
        found = {m: PurchaseTotals(0, 0, None) for m in member_ids}
        if not member_ids:
            return found
        stmt = _TOTALS_MANY[(since is not None, until is not None)]
        for row in self._conn.execute(
            stmt, {"m": list(member_ids), "since": since, "until": until}
        ):
            found[row[0]] = PurchaseTotals(int(row[1]), int(row[2]), row[3])
        return found

    def budget_used(self, program_id: str, rule_ids: Sequence[str]) -> dict[str, int]:
        """What each rule has awarded program-wide: on purchases and on events alike."""
        if not rule_ids:
            return {}
        used: dict[str, int] = {}
        for rule_id, amount in self._conn.execute(
            _BUDGET_USED, {"p": program_id, "rules": list(rule_ids)}
        ):
            used[rule_id] = used.get(rule_id, 0) + int(amount)
        return used

    def totals(
        self, member_id: str, since: datetime | None, until: datetime | None
    ) -> PurchaseTotals:
        stmt = _TOTALS[(since is not None, until is not None)]
        row = self._conn.execute(stmt, {"m": member_id, "since": since, "until": until}).one()
        return PurchaseTotals(int(row[0]), int(row[1]), row[2])

    def refunded(self, purchase_id: str, *, eligible: int, amount: int) -> None:
        self._conn.execute(
            t.purchases.update()
            .where(_p.id == purchase_id)
            .values(eligible_left=_p.eligible_left - eligible, refunded=_p.refunded + amount)
        )

    def get_event(self, program_id: str, external_id: str) -> StoredEvent | None:
        columns = [_ev[f.name] for f in fields(StoredEvent)]
        row = self._conn.execute(
            sa.select(*columns).where(_ev.program_id == program_id, _ev.external_id == external_id)
        ).first()
        return StoredEvent(**row._asdict()) if row else None

    def add_event(self, event: StoredEvent, awards: Sequence[StoredEventAward]) -> None:
        self._conn.execute(t.activity_events.insert(), [_row(event)])
        if awards:
            self._conn.execute(t.event_awards.insert(), [_row(a) for a in awards])

    def get_refund(self, program_id: str, external_id: str) -> StoredRefund | None:
        columns = [_r[f.name] for f in fields(StoredRefund)]
        row = self._conn.execute(
            sa.select(*columns).where(_r.program_id == program_id, _r.external_id == external_id)
        ).first()
        return StoredRefund(**row._asdict()) if row else None

    def refunds_of(self, purchase_id: str) -> list[StoredRefund]:
        columns = [_r[f.name] for f in fields(StoredRefund)]
        rows = self._conn.execute(
            sa.select(*columns).where(_r.purchase_id == purchase_id).order_by(_r.recorded_at, _r.id)
        )
        return [StoredRefund(**row._asdict()) for row in rows]

    def add_refund(self, refund: StoredRefund) -> None:
        self._conn.execute(t.refunds.insert(), [_row(refund)])
