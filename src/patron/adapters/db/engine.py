"""Engines for the two supported databases, and how each one starts a transaction.

- PostgreSQL through psycopg 3 (``postgresql://`` URLs are mapped to ``postgresql+psycopg://``),
  READ COMMITTED, with row locks (``SELECT ... FOR UPDATE``) taken by the use cases.
- SQLite through the standard library: WAL journal (readers never block the writer),
  ``foreign_keys=ON``, and transactions begun by Patron itself: ``BEGIN IMMEDIATE`` for writes,
  so a write transaction holds the database's single write lock from its first statement and
  can never fail half-way with "database is locked" on an upgrade from read to write.

Tenant scope (PostgreSQL): a connection opened with the ``patron_program`` execution option runs
every transaction it begins as role ``patron_tenant`` with ``patron.program_id`` set to that
program, both ``LOCAL`` to the transaction (one statement, ``set_config(..., true)``). Row-level
security (migration 0016) then confines the transaction to the program's rows. Being local, the
role and the setting end with the transaction, commit or rollback, so a pooled connection is back
to the connecting user when the next checkout gets it; and because the ``begin`` event applies
them, a transaction that a scoped connection begins after a commit is scoped as well.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

WRITE_OPTION = "patron_write"
PROGRAM_OPTION = "patron_program"
TENANT_ROLE = "patron_tenant"
SCOPE_SETTING = "patron.program_id"

_ENTER_SCOPE = sa.text(
    f"SELECT set_config('role', '{TENANT_ROLE}', true), "
    f"set_config('{SCOPE_SETTING}', :program, true)"
)


def sqlalchemy_url(url: str) -> str:
    """Map a ``PATRON_DATABASE_URL`` to a SQLAlchemy URL with Patron's driver."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("sqlite:", "postgresql+psycopg:")):
        return url
    raise ValueError("PATRON_DATABASE_URL must start with sqlite:/// or postgresql://")


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    target = sqlalchemy_url(url)
    if target.startswith("sqlite"):
        return _sqlite_engine(target, pool_size)
    engine = sa.create_engine(
        target,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10},
    )

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        program = conn.get_execution_options().get(PROGRAM_OPTION)
        if program is not None:
            conn.execute(_ENTER_SCOPE, {"program": program})

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_engine(target: str, pool_size: int) -> Engine:
    engine = sa.create_engine(
        target,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let Patron emit BEGIN itself (the driver's implicit BEGIN is DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
