"""The bare endpoint the HTTP earn benchmark compares Patron with.

``POST /purchases`` parses the same JSON body and commits the same rows one Patron earn writes
(purchase, five awards, two ledger entries with their postings and lots, two balance updates),
with the raw driver and nothing else: no validation, no rules, no idempotency, no tiers. It is
the physical limit of "an HTTP request that commits an earn" on this machine and database.

Run by ``bench/suite.py`` under uvicorn (``--factory bench.raw_app:create``) with the database in
``PATRON_DATABASE_URL``.
"""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from bench.earn import raw_rows, sql
from fastapi import FastAPI, Request
from fastapi.responses import Response


def create() -> FastAPI:
    url = os.environ["PATRON_DATABASE_URL"]
    program_id = os.environ["BENCH_PROGRAM_ID"]
    app = FastAPI()
    if url.startswith("sqlite"):
        write = _sqlite_writer(url.removeprefix("sqlite:///"))
    else:
        write = _postgres_writer(url)

    @app.post("/purchases", status_code=201)
    async def purchases(request: Request) -> Response:
        body = json.loads(await request.body())
        rows = raw_rows(program_id, body["member"]["id"], body["external_id"])
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(write, rows)
        return Response(b'{"ok":true}', status_code=201, media_type="application/json")

    return app


def _sqlite_writer(path: str) -> Any:
    lock = threading.Lock()
    local = threading.local()

    def write(rows: dict[str, Any]) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=5000")
            local.conn = conn
        with lock:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(sql("purchase", "?"), rows["purchase"])
            for name in ("entries", "postings", "lots", "awards", "balances"):
                conn.executemany(sql(name, "?"), rows[name])
            conn.execute("COMMIT")

    return write


def _postgres_writer(url: str) -> Any:
    pool: queue.LifoQueue[psycopg.Connection[Any]] = queue.LifoQueue()
    for _ in range(8):
        pool.put(psycopg.connect(url))

    @contextmanager
    def connection() -> Iterator[psycopg.Connection[Any]]:
        conn = pool.get()
        try:
            yield conn
        finally:
            pool.put(conn)

    def write(rows: dict[str, Any]) -> None:
        with connection() as conn, conn.transaction(), conn.cursor() as cur:
            for member, wallet in sorted(rows["balances"]):
                cur.execute(
                    "SELECT 1 FROM balances WHERE member_id = %s AND wallet = %s FOR UPDATE",
                    (member, wallet),
                    prepare=True,
                )
            cur.execute(sql("purchase", "%s"), rows["purchase"], prepare=True)
            for name in ("entries", "postings", "lots", "awards", "balances"):
                cur.executemany(sql(name, "%s"), rows[name])

    return write
