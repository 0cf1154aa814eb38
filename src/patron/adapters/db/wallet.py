"""Wallet pass settings, one row per program."""

from __future__ import annotations

from dataclasses import asdict, fields

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.services.ports.wallet import StoredWallet

_w = t.wallet_settings.c
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
