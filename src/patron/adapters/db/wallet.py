"""Wallet pass settings (one row per program), the passes' change times and devices, and the
outbox's wallet mark."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.services.ports import OutboxEvent
from patron.services.ports.wallet import PassDevice, StoredWallet

_w = t.wallet_settings.c
_p = t.wallet_passes.c
_d = t.wallet_devices.c
_o = t.outbox.c
_EVENT = [f.name for f in fields(OutboxEvent)]
_FIELDS = [f.name for f in fields(StoredWallet)]


class SqlWalletRepository:
    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def get(self, program_id: str) -> StoredWallet | None:
        row = self._conn.execute(
            sa.select(*(_w[n] for n in _FIELDS)).where(_w.program_id == program_id)
        ).first()
        return StoredWallet(**row._asdict()) if row is not None else None

    def put(self, wallet: StoredWallet) -> None:
        values = asdict(wallet)
        self._conn.execute(
            self._insert(t.wallet_settings)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[_w.program_id],
                set_={n: values[n] for n in _FIELDS if n != "program_id"},
            )
        )


class SqlWalletPassRepository:
    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def register(self, device: PassDevice) -> bool:
        self._conn.execute(
            self._insert(t.wallet_passes)
            .values(
                program_id=device.program_id,
                member_id=device.member_id,
                updated_at=device.created_at,
            )
            .on_conflict_do_nothing(index_elements=[_p.program_id, _p.member_id])
        )
        key = (
            _d.program_id == device.program_id,
            _d.device_id == device.device_id,
            _d.pass_type_id == device.pass_type_id,
            _d.member_id == device.member_id,
        )
        updated = self._conn.execute(
            t.wallet_devices.update().where(*key).values(push_token=device.push_token)
        )
        if updated.rowcount:
            return False
        self._conn.execute(t.wallet_devices.insert().values(**asdict(device)))
        return True

    def unregister(
        self, program_id: str, device_id: str, pass_type_id: str, member_id: str
    ) -> bool:
        gone = self._conn.execute(
            t.wallet_devices.delete().where(
                _d.program_id == program_id,
                _d.device_id == device_id,
                _d.pass_type_id == pass_type_id,
                _d.member_id == member_id,
            )
        )
        return bool(gone.rowcount)

    def serials(
        self, program_id: str, device_id: str, pass_type_id: str, since: datetime | None
    ) -> list[tuple[str, datetime]]:
        query = (
            sa.select(_p.member_id, _p.updated_at)
            .join(
                t.wallet_devices,
                sa.and_(_d.program_id == _p.program_id, _d.member_id == _p.member_id),
            )
            .where(
                _d.program_id == program_id,
                _d.device_id == device_id,
                _d.pass_type_id == pass_type_id,
            )
            .order_by(_p.member_id)
        )
        if since is not None:
            query = query.where(_p.updated_at > since)
        return [(str(m), at) for m, at in self._conn.execute(query)]

    def updated_at(self, program_id: str, member_id: str) -> datetime | None:
        value = self._conn.execute(
            sa.select(_p.updated_at).where(_p.program_id == program_id, _p.member_id == member_id)
        ).scalar_one_or_none()
        return value if isinstance(value, datetime) else None

    def touch(self, program_id: str, member_ids: Sequence[str], now: datetime) -> list[str]:
        if not member_ids:
            return []
        where = (_p.program_id == program_id, _p.member_id.in_(list(member_ids)))
        self._conn.execute(t.wallet_passes.update().where(*where).values(updated_at=now))
        found = self._conn.execute(sa.select(_p.member_id).where(*where).order_by(_p.member_id))
        return [str(m) for m in found.scalars()]

    def push_tokens(self, program_id: str, member_ids: Sequence[str]) -> list[str]:
        if not member_ids:
            return []
        rows = self._conn.execute(
            sa.select(_d.push_token)
            .where(_d.program_id == program_id, _d.member_id.in_(list(member_ids)))
            .distinct()
            .order_by(_d.push_token)
        )
        return [str(token) for token in rows.scalars()]

    def forget_tokens(self, program_id: str, push_tokens: Sequence[str]) -> int:
        if not push_tokens:
            return 0
        gone = self._conn.execute(
            t.wallet_devices.delete().where(
                _d.program_id == program_id, _d.push_token.in_(list(push_tokens))
            )
        )
        return int(gone.rowcount)

    def forget(self, program_id: str, member_id: str) -> int:
        gone = self._conn.execute(
            t.wallet_devices.delete().where(_d.program_id == program_id, _d.member_id == member_id)
        )
        return int(gone.rowcount)

    def unhandled(self, program_id: str, limit: int) -> list[OutboxEvent]:
        rows = self._conn.execute(
            sa.select(*(_o[n] for n in _EVENT))
            .where(_o.program_id == program_id, _o.wallet_at.is_(None))
            .order_by(_o.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [OutboxEvent(**row._asdict()) for row in rows]

    def mark_handled(self, event_ids: Sequence[str], now: datetime) -> None:
        if event_ids:
            self._conn.execute(
                t.outbox.update().where(_o.id.in_(list(event_ids))).values(wallet_at=now)
            )
