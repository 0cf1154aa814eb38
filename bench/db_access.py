"""How should Patron talk to its database? A measurement of the purchase-shaped transaction.

Each transaction does what an earn does at its core: lock the member's balance row, insert one
ledger row, update the balance, commit. It runs through several access styles, and the script
prints transactions per second (wall clock) and client CPU per transaction:

    pg raw psycopg (sync)           the driver alone, one connection
    pg Core sync, built once        SQLAlchemy Core on psycopg 3, statements compiled once
    pg Core sync, built per txn     the same, statements built on every transaction
    pg raw psycopg sync, 4 threads  the driver alone, 4 connections in a thread pool
    pg Core sync, 4 / 8 threads     built once, 4 or 8 pooled connections (the API's shape)
    pg raw psycopg async, 4 tasks   the async driver, 4 connections on one event loop
    sqlite Core sync, 1 thread      Patron's SQLite engine: WAL, BEGIN IMMEDIATE
    sqlite Core sync, 4 threads     the same behind Patron's single-writer lock

Usage: ``.venv/bin/python bench/db_access.py [--transactions N] [--postgres URL]``. The
PostgreSQL URL defaults to ``PATRON_TEST_POSTGRES_URL``; a scratch database is created next to
it and dropped afterwards. Figures vary with the machine: compare the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from patron.adapters.db.engine import WRITE_OPTION, make_engine

MEMBERS = 200
meta = sa.MetaData()
balances = sa.Table(
    "bench_balances",
    meta,
    sa.Column("member", sa.Integer, primary_key=True),
    sa.Column("available", sa.BigInteger, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)
entries = sa.Table(
    "bench_entries",
    meta,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("member", sa.Integer, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("reference", sa.String(64), nullable=False, unique=True),
)


@dataclass
class Result:
    name: str
    transactions: int
    wall: float
    cpu: float

    def line(self, baseline: float | None) -> str:
        rate = self.transactions / self.wall
        ratio = f"{rate / baseline:5.2f}x" if baseline else "  1.00x"
        cpu_us = self.cpu / self.transactions * 1e6
        return f"{self.name:<34} {rate:9.0f} txn/s {ratio}   {cpu_us:7.0f} µs CPU/txn"


def measure(name: str, transactions: int, run: Callable[[], None]) -> Result:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return Result(name, transactions, time.perf_counter() - wall, time.process_time() - cpu)


def reset(engine: sa.Engine) -> None:
    meta.drop_all(engine)
    meta.create_all(engine)
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        conn.execute(
            balances.insert(), [{"member": m, "available": 0, "version": 0} for m in range(MEMBERS)]
        )


def core_purchase(built_once: bool, dialect: str) -> Callable[[sa.Connection, int], None]:
    """One purchase transaction through SQLAlchemy Core."""

    def statements() -> tuple[Any, Any, Any]:
        lock = sa.select(balances.c.available, balances.c.version).where(
            balances.c.member == sa.bindparam("m")
        )
        if dialect == "postgresql":
            lock = lock.with_for_update()
        insert = entries.insert()
        update = (
            balances.update()
            .where(balances.c.member == sa.bindparam("m"))
            .values(available=sa.bindparam("a"), version=sa.bindparam("v"))
        )
        return lock, insert, update

    prebuilt = statements()

    def purchase(conn: sa.Connection, i: int) -> None:
        lock, insert, update = prebuilt if built_once else statements()
        member = i % MEMBERS
        with conn.begin():
            row = conn.execute(lock, {"m": member}).one()
            conn.execute(
                insert,
                {
                    "id": str(uuid.uuid4()),
                    "member": member,
                    "amount": 10,
                    "reference": f"r{i}-{uuid.uuid4().hex[:8]}",
                },
            )
            conn.execute(update, {"m": member, "a": row.available + 10, "v": row.version + 1})

    return purchase


def run_core(
    engine: sa.Engine, n: int, threads: int, built_once: bool, lock: threading.Lock | None
) -> None:
    purchase = core_purchase(built_once, engine.dialect.name)

    def worker(offset: int) -> None:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            for i in range(offset, n, threads):
                if lock is None:
                    purchase(conn, i)
                else:
                    with lock:
                        purchase(conn, i)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))


RAW_LOCK = "SELECT available, version FROM bench_balances WHERE member = %s FOR UPDATE"
RAW_INSERT = "INSERT INTO bench_entries (id, member, amount, reference) VALUES (%s, %s, %s, %s)"
RAW_UPDATE = "UPDATE bench_balances SET available = %s, version = %s WHERE member = %s"


def run_raw_sync(url: str, n: int, threads: int = 1) -> None:
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda offset: _raw_sync_worker(url, n, offset, threads), range(threads)))


def _raw_sync_worker(url: str, n: int, offset: int, step: int) -> None:
    with psycopg.connect(url) as conn:
        for i in range(offset, n, step):
            member = i % MEMBERS
            with conn.transaction():
                available, version = conn.execute(RAW_LOCK, (member,), prepare=True).fetchone()  # type: ignore[misc]
                conn.execute(RAW_INSERT, (str(uuid.uuid4()), member, 10, f"s{i}"), prepare=True)
                conn.execute(RAW_UPDATE, (available + 10, version + 1, member), prepare=True)


async def _raw_async(url: str, n: int, tasks: int) -> None:
    async def worker(offset: int) -> None:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            for i in range(offset, n, tasks):
                member = i % MEMBERS
                async with conn.transaction():
                    cursor = await conn.execute(RAW_LOCK, (member,), prepare=True)
                    available, version = await cursor.fetchone()  # type: ignore[misc]
                    await conn.execute(
                        RAW_INSERT, (str(uuid.uuid4()), member, 10, f"a{i}"), prepare=True
                    )
                    await conn.execute(
                        RAW_UPDATE, (available + 10, version + 1, member), prepare=True
                    )

    await asyncio.gather(*(worker(k) for k in range(tasks)))


def postgres_results(base_url: str, n: int) -> list[Result]:
    scratch = f"patron_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{scratch}"')
    url = base_url.rsplit("/", 1)[0] + "/" + scratch
    engine = make_engine(url, pool_size=8)
    results = []
    try:
        for name, run in [
            ("pg raw psycopg (sync)", lambda: run_raw_sync(url, n)),
            ("pg Core sync, built once", lambda: run_core(engine, n, 1, True, None)),
            ("pg Core sync, built per txn", lambda: run_core(engine, n, 1, False, None)),
            ("pg raw psycopg sync, 4 threads", lambda: run_raw_sync(url, n, 4)),
            ("pg Core sync, 4 threads", lambda: run_core(engine, n, 4, True, None)),
            ("pg Core sync, 8 threads", lambda: run_core(engine, n, 8, True, None)),
            ("pg raw psycopg async, 4 tasks", lambda: asyncio.run(_raw_async(url, n, 4))),
        ]:
            reset(engine)
            results.append(measure(name, n, run))
    finally:
        engine.dispose()
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{scratch}" WITH (FORCE)')
    return results


def sqlite_results(n: int) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}", pool_size=4)
        results = []
        for name, threads in [
            ("sqlite Core sync, 1 thread", 1),
            ("sqlite Core sync, 4 threads", 4),
        ]:
            reset(engine)
            writer = threading.Lock()

            def run(t: int = threads, w: threading.Lock = writer) -> None:
                run_core(engine, n, t, True, w)

            results.append(measure(name, n, run))
        engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--transactions", type=int, default=3000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "PATRON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    results = postgres_results(args.postgres, args.transactions) + sqlite_results(args.transactions)
    baseline = results[0].transactions / results[0].wall
    print(f"{args.transactions} purchase transactions per style; ratio against the first line")
    for result in results:
        print(result.line(baseline))


if __name__ == "__main__":
    main()
