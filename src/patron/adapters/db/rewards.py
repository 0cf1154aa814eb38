"""Storage of the rewards catalogue and of redemptions with their vouchers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.domain.rewards import Reward
from patron.services.ports import Redemption

_r = t.rewards.c
_d = t.redemptions.c
_REWARD = [f.name for f in fields(Reward)]
_REDEMPTION = [f.name for f in fields(Redemption)]


def _row(record: Any, names: list[str]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}


class SqlRewardRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, reward: Reward) -> None:
        self._conn.execute(t.rewards.insert(), [_row(reward, _REWARD)])

    def update(self, reward: Reward) -> None:
        values = {k: v for k, v in _row(reward, _REWARD).items() if k not in ("id", "program_id")}
        self._conn.execute(t.rewards.update().where(_r.id == reward.id).values(**values))

    def _one(self, condition: sa.ColumnElement[bool]) -> Reward | None:
        row = self._conn.execute(sa.select(*(_r[n] for n in _REWARD)).where(condition)).first()
        return Reward(**row._asdict()) if row else None

    def get(self, program_id: str, code: str) -> Reward | None:
        return self._one(sa.and_(_r.program_id == program_id, _r.code == code))

    def by_id(self, reward_id: str) -> Reward | None:
        return self._one(_r.id == reward_id)

    def all(self, program_id: str) -> list[Reward]:
        rows = self._conn.execute(
            sa.select(*(_r[n] for n in _REWARD))
            .where(_r.program_id == program_id)
            .order_by(_r.code)
        )
        return [Reward(**row._asdict()) for row in rows]

    def take_stock(self, reward_id: str) -> bool:
        # One statement: concurrent redemptions queue on the row and re-check ``stock > 0``.
        result = self._conn.execute(
            t.rewards.update()
            .where(_r.id == reward_id, sa.or_(_r.stock.is_(None), _r.stock > 0))
            .values(stock=sa.case((_r.stock.is_(None), None), else_=_r.stock - 1))
        )
        return result.rowcount == 1

    def return_stock(self, reward_id: str) -> None:
        self._conn.execute(
            t.rewards.update()
            .where(_r.id == reward_id, _r.stock.is_not(None))
            .values(stock=_r.stock + 1)
        )

    def redeemed_by(self, member_id: str, reward_ids: Sequence[str]) -> dict[str, int]:
        if not reward_ids:
            return {}
        stmt = (
            sa.select(_d.reward_id, sa.func.count())
            .where(
                _d.member_id == member_id,
                _d.reward_id.in_(list(reward_ids)),
                _d.status != "cancelled",
            )
            .group_by(_d.reward_id)
        )
        return {r[0]: int(r[1]) for r in self._conn.execute(stmt)}

    def add_redemption(self, redemption: Redemption) -> None:
        self._conn.execute(t.redemptions.insert(), [_row(redemption, _REDEMPTION)])

    def _redemption(self, condition: sa.ColumnElement[bool]) -> Redemption | None:
        row = self._conn.execute(sa.select(*(_d[n] for n in _REDEMPTION)).where(condition)).first()
        return Redemption(**row._asdict()) if row else None

    def redemption(self, program_id: str, redemption_id: str) -> Redemption | None:
        return self._redemption(sa.and_(_d.program_id == program_id, _d.id == redemption_id))

    def voucher(self, program_id: str, code: str) -> Redemption | None:
        return self._redemption(sa.and_(_d.program_id == program_id, _d.voucher_code == code))

    def live_vouchers(self, program_id: str, member_id: str, now: datetime) -> list[Redemption]:
        rows = self._conn.execute(
            sa.select(*(_d[n] for n in _REDEMPTION))
            .where(
                _d.program_id == program_id,
                _d.member_id == member_id,
                _d.status == "issued",
                _d.voucher_code.is_not(None),
                sa.or_(_d.voucher_expires_at.is_(None), _d.voucher_expires_at > now),
            )
            .order_by(_d.id)
        )
        return [Redemption(**row._asdict()) for row in rows]

    def set_status(
        self,
        redemption_id: str,
        *,
        from_status: str,
        to_status: str,
        at: datetime,
        reference: str | None = None,
    ) -> bool:
        values: dict[str, Any] = {"status": to_status}
        if to_status == "used":
            values.update(used_at=at, used_reference=reference)
        if to_status == "cancelled":
            values["cancelled_at"] = at
        result = self._conn.execute(
            t.redemptions.update()
            .where(_d.id == redemption_id, _d.status == from_status)
            .values(**values)
        )
        return result.rowcount == 1

    def expire_vouchers(self, program_id: str, now: datetime) -> int:
        result = self._conn.execute(
            t.redemptions.update()
            .where(
                _d.program_id == program_id,
                _d.status == "issued",
                _d.voucher_expires_at <= now,
            )
            .values(status="expired")
        )
        return int(result.rowcount)
