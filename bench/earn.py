"""The earning path: pure evaluation, and the whole earn use case against a raw-driver baseline.

1. Pure evaluation: purchases/s of ``evaluate_purchase`` for a 12-rule configuration and a
   5-line purchase (no I/O).
2. The earn use case (``services.purchases.record``: lock, evaluate, post entries, lots and
   awards, commit) on SQLite and on PostgreSQL, one purchase per transaction, sequentially;
   printed beside a raw-driver baseline that writes the same rows (purchase, awards, two
   entries with their postings and lots, two balance updates) in the same run, as a ratio.

Usage: ``.venv/bin/python bench/earn.py [--purchases N] [--postgres URL]``. PostgreSQL defaults
to ``PATRON_TEST_POSTGRES_URL``; a scratch database is created beside it and dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from patron.bootstrap import Container, build
from patron.config import Settings
from patron.domain.audit import CLI
from patron.domain.config import parse_config
from patron.domain.rules import Line, MemberState, Payment, Purchase, evaluate_purchase
from patron.services import members, programs, purchases
from patron.services.demo import EXAMPLE_CONFIG
from patron.services.ledger import Context
from patron.services.transactions import run_in_transaction

# the example configuration's eight purchase rules, and four more: twelve in all
RULES: list[dict[str, Any]] = [
    *(rule for rule in EXAMPLE_CONFIG["rules"] if rule["kind"] != "event"),
    {"id": "online", "kind": "bonus", "points": 20, "channels": ["online"]},
    {
        "id": "bags",
        "kind": "spend",
        "points": 3,
        "per": "2.00",
        "categories": ["bags"],
        "exclude_skus": ["BAG-SALE"],
    },
    {"id": "big", "kind": "bonus", "points": 200, "min_spend": "150.00"},
    {"id": "app", "kind": "bonus", "points": 5, "when": "purchase.channel == 'store'"},
]
CONFIG = {"wallets": {"points": {}, "credit": {"kind": "money"}}, "rules": RULES}
AT = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
ENROLLED = datetime(2026, 3, 1, tzinfo=UTC)  # a member's purchases come after their enrolment


def receipt(external_id: str) -> Purchase:
    return Purchase(
        external_id=external_id,
        occurred_at=AT,
        channel="store",
        store_id="S1",
        lines=(
            Line("LIP-01", 2, Decimal("12.00"), Decimal(0), "makeup"),
            Line("SHOE-9", 1, Decimal("89.90"), Decimal("10.00"), "shoes"),
            Line("BAG-1", 1, Decimal("45.00"), Decimal(0), "bags"),
            Line("SOCK-3", 3, Decimal("4.50"), Decimal(0), "socks"),
            Line("GIFT", 1, Decimal("5.00"), Decimal(0), "gifts"),
        ),
        tax=Decimal("20.00"),
        payments=(Payment("card", Decimal("180.40"), "cobrand"),),
    )


def rate(label: str, count: int, run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    per_second = count / (time.perf_counter() - started)
    print(f"{label:<52} {per_second:9.0f} /s")
    return per_second


def pure(count: int) -> None:
    config = parse_config(CONFIG)
    state = MemberState(member_id="m", purchases_before=3)
    bought = receipt("R")

    def run() -> None:
        for _ in range(count):
            evaluate_purchase(config, state, bought, timezone="Europe/Paris", exponent=2)

    rate("pure evaluation (12 rules, 5 lines)", count, run)


def patron_earn(container: Container, count: int, label: str) -> tuple[float, str, list[str]]:
    made = run_in_transaction(
        container.uow,
        lambda uow: programs.create_program(
            uow,
            container.clock,
            CLI,
            programs.NewProgram(
                slug=f"bench-{uuid.uuid4().hex[:6]}",
                name="Bench",
                currency="EUR",
                timezone="Europe/Paris",
                config=CONFIG,
            ),
        ),
    )
    program = made.program
    member_ids = [
        run_in_transaction(
            container.uow,
            lambda uow: members.enrol_member(
                uow, container.clock, CLI, program, members.NewMember(enrolled_at=ENROLLED)
            ),
        ).id
        for _ in range(50)
    ]

    def one(i: int) -> None:
        ref = purchases.MemberRef("id", member_ids[i % len(member_ids)])
        run_in_transaction(
            container.uow,
            lambda uow: purchases.record(
                Context(uow, container.clock, CLI, programs.get_program(uow, program.id)),
                receipt(f"R-{i}"),
                ref,
                fingerprint=str(i),
                document={"i": i},
            ),
        )

    def run() -> None:
        for i in range(count):
            one(i)

    return rate(f"{label}: Patron earn use case", count, run), program.id, member_ids


def raw_rows(program_id: str, member_id: str, i: int | str) -> dict[str, Any]:
    """The rows one earn writes, with fresh ids."""
    now = AT.isoformat()
    purchase_id, e1, e2 = (str(uuid.uuid4()) for _ in range(3))
    return {
        "purchase": (
            purchase_id,
            program_id,
            f"RAW-{i}",
            member_id,
            now,
            17040,
            "f",
            1,
            "{}",
            "{}",
            now,
        ),
        "awards": [
            (purchase_id, rule, program_id, member_id, "spend", "points", 10, now, e1)
            for rule in ("base", "visit", "shoes", "lipstick", "bags")
        ],
        "entries": [
            (e, program_id, member_id, w, "earn", 10, "posted", now, now, f"k{i}{w}")
            for e, w in ((e1, "points"), (e2, "credit"))
        ],
        "postings": [
            (e, program_id, member_id, w, "program:issued", "member:available", 10)
            for e, w in ((e1, "points"), (e2, "credit"))
        ],
        "lots": [
            (str(uuid.uuid4()), program_id, member_id, w, e, 10, 10, now, now, False)
            for e, w in ((e1, "points"), (e2, "credit"))
        ],
        "balances": [(member_id, w) for w in ("points", "credit")],
    }


SQL = {
    "purchase": "INSERT INTO purchases (id, program_id, external_id, member_id, occurred_at, "
    "eligible_amount, fingerprint, config_version, document, result, recorded_at) "
    "VALUES ({})",
    "awards": "INSERT INTO purchase_awards (purchase_id, rule_id, program_id, member_id, kind, "
    "wallet, amount, occurred_at, entry_id) VALUES ({})",
    "entries": "INSERT INTO ledger_entries (id, program_id, member_id, wallet, type, amount, "
    "status, occurred_at, recorded_at, key) VALUES ({})",
    "postings": "INSERT INTO ledger_postings (entry_id, program_id, member_id, wallet, source, "
    "destination, amount) VALUES ({})",
    "lots": "INSERT INTO ledger_lots (id, program_id, member_id, wallet, entry_id, amount, "
    "remaining, earned_at, available_at, pending) VALUES ({})",
    "balances": "UPDATE balances SET available = available + 10, version = version + 1 "
    "WHERE member_id = {} AND wallet = {}",
}
COUNTS = {"purchase": 11, "awards": 9, "entries": 10, "postings": 7, "lots": 10}


def sql(name: str, mark: str) -> str:
    if name == "balances":
        return SQL[name].format(mark, mark)
    return SQL[name].format(", ".join([mark] * COUNTS[name]))


def raw_sqlite(path: str, program_id: str, member_ids: list[str], count: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")

    def run() -> None:
        for i in range(count):
            rows = raw_rows(program_id, member_ids[i % len(member_ids)], i)
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(sql("purchase", "?"), rows["purchase"])
            for name in ("entries", "postings", "lots", "awards", "balances"):
                conn.executemany(sql(name, "?"), rows[name])
            conn.execute("COMMIT")

    try:
        return rate("sqlite: raw sqlite3, same rows", count, run)
    finally:
        conn.close()


def raw_postgres(url: str, program_id: str, member_ids: list[str], count: int) -> float:
    with psycopg.connect(url) as conn:

        def run() -> None:
            for i in range(count):
                rows = raw_rows(program_id, member_ids[i % len(member_ids)], i)
                with conn.transaction(), conn.cursor() as cur:
                    for m, w in sorted(rows["balances"]):
                        cur.execute(
                            "SELECT 1 FROM balances WHERE member_id = %s AND wallet = %s "
                            "FOR UPDATE",
                            (m, w),
                            prepare=True,
                        )
                    cur.execute(sql("purchase", "%s"), rows["purchase"], prepare=True)
                    for name in ("entries", "postings", "lots", "awards", "balances"):
                        cur.executemany(sql(name, "%s"), rows[name])

        return rate("postgres: raw psycopg, same rows", count, run)


def main() -> None:
    parser = argparse.ArgumentParser(description="Patron earning benchmark")
    parser.add_argument("--purchases", type=int, default=1000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "PATRON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    pure(args.purchases * 5)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bench.db")
        container = build(Settings(database_url=f"sqlite:///{path}", auto_upgrade=True))
        patron, program_id, member_ids = patron_earn(container, args.purchases, "sqlite")
        raw = raw_sqlite(path, program_id, member_ids, args.purchases)
        print(f"{'sqlite: Patron / raw':<52} {patron / raw:9.2f}x")
        container.close()
    scratch = f"patron_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{scratch}"')
    url = args.postgres.rsplit("/", 1)[0] + "/" + scratch
    try:
        container = build(Settings(database_url=url, auto_upgrade=True))
        patron, program_id, member_ids = patron_earn(container, args.purchases, "postgres")
        raw = raw_postgres(url, program_id, member_ids, args.purchases)
        print(f"{'postgres: Patron / raw':<52} {patron / raw:9.2f}x")
        container.close()
    finally:
        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{scratch}" WITH (FORCE)')


if __name__ == "__main__":
    main()
