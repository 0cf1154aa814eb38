"""Helpers for fault-injection tests: running `patron` as a process that can be killed, seeing
from outside whether a process is inside a write transaction, and a program's books reduced to
what must come out the same however often a run was interrupted.

A snapshot names members by external id and drops what differs between two correct runs
(generated ids, the wall-clock time of recording), so the books of a killed-and-resumed run can
be compared with an uninterrupted one, even in another program of the same database.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections import Counter
from datetime import datetime
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from patron.adapters.db import tables as t

PATRON = [sys.executable, "-c", "from patron.cli.main import main; main()"]


def patron_env(db_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "PATRON_DATABASE_URL": db_url, "PATRON_AUTO_UPGRADE": "false", **extra}


def writer_active(db_url: str) -> bool:
    """True while another connection holds an open write transaction on the database.

    PostgreSQL: a session whose transaction has written (it has a transaction id). SQLite: the
    write lock is taken (``BEGIN IMMEDIATE`` with no wait fails); when it is free, the probe
    gives it back at once.
    """
    if db_url.startswith("sqlite"):
        probe = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        else:
            probe.execute("ROLLBACK")
            return False
        finally:
            probe.close()
    with psycopg.connect(db_url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
        ).fetchone()
    return bool(found and found[0])


def count(engine: Engine, table: sa.Table, program_id: str) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.program_id == program_id)
        ).scalar_one()
    return int(found)


def snapshot(engine: Engine, program_id: str, since: datetime) -> dict[str, Any]:
    """The program's books: members, entries, postings, lots, balances, purchases and their
    awards, and the facts in the outbox, each as a sorted list (or counter) of plain values.

    Times from the wall clock of the run (a signup bonus is earned when the member is
    enrolled, and its lot expires a year later) differ between two correct runs: every time
    after ``since`` reads ``<run>``.
    """
    with engine.connect() as conn:
        members = {
            row.id: row.external_id or row.email or row.id
            for row in conn.execute(
                sa.select(t.members.c.id, t.members.c.external_id, t.members.c.email).where(
                    t.members.c.program_id == program_id
                )
            )
        }

        def name(value: Any) -> Any:
            if isinstance(value, datetime) and value >= since:
                return "<run>"
            if not isinstance(value, str):
                return value
            for member_id, external in members.items():
                value = value.replace(member_id, f"<{external}>")
            return value

        def rows(query: Any) -> list[tuple[Any, ...]]:
            return sorted((tuple(name(v) for v in row) for row in conn.execute(query)), key=repr)

        e, p, lots, b = t.ledger_entries, t.ledger_postings, t.ledger_lots, t.balances
        pu, aw = t.purchases, t.purchase_awards
        entries = rows(
            sa.select(
                e.c.member_id, e.c.key, e.c.type, e.c.wallet, e.c.amount, e.c.status,
                e.c.occurred_at, e.c.reference, e.c.reason,
            ).where(e.c.program_id == program_id)
        )  # fmt: skip
        postings = rows(
            sa.select(
                p.c.member_id, p.c.wallet, p.c.source, p.c.destination,
                sa.func.sum(p.c.amount), sa.func.count(),
            )
            .where(p.c.program_id == program_id)
            .group_by(p.c.member_id, p.c.wallet, p.c.source, p.c.destination)
        )  # fmt: skip
        lot_rows = rows(
            sa.select(
                lots.c.member_id, lots.c.wallet, lots.c.amount, lots.c.remaining,
                lots.c.earned_at, lots.c.available_at, lots.c.expires_at, lots.c.pending,
            ).where(lots.c.program_id == program_id)
        )  # fmt: skip
        balances = rows(
            sa.select(
                b.c.member_id, b.c.wallet, b.c.available, b.c.pending, b.c.deficit,
                b.c.lifetime_earned,
            ).where(b.c.program_id == program_id)
        )  # fmt: skip
        purchases = rows(
            sa.select(
                pu.c.external_id, pu.c.member_id, pu.c.occurred_at, pu.c.channel,
                pu.c.eligible_amount, pu.c.amount, pu.c.refunded, pu.c.eligible_left,
                pu.c.fingerprint,
            ).where(pu.c.program_id == program_id)
        )  # fmt: skip
        awards = rows(
            sa.select(pu.c.external_id, aw.c.rule_id, aw.c.kind, aw.c.wallet, aw.c.amount)
            .join(pu, pu.c.id == aw.c.purchase_id)
            .where(aw.c.program_id == program_id)
        )
        facts = Counter(
            row.type
            for row in conn.execute(
                sa.select(t.outbox.c.type).where(t.outbox.c.program_id == program_id)
            )
        )
    return {
        "members": sorted(map(str, members.values())),
        "entries": entries,
        "postings": postings,
        "lots": lot_rows,
        "balances": balances,
        "purchases": purchases,
        "awards": awards,
        "facts": dict(facts),
    }
