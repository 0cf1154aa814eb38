"""Patron's benchmark suite: one command, SQLite and PostgreSQL in the same run.

    .venv/bin/python -m bench.suite [--quick] [--postgres URL] [--only earn,import,expiry,summary]

Each figure is printed beside the physical limit of the same database in the same run, as a
ratio, and every run writes ``bench/results/<backend>-<benchmark>.json``:

- **earn over HTTP**: Patron under uvicorn (two workers on PostgreSQL, one on SQLite, whose
  writer is one process), a lean asyncio HTTP/1.1 load generator on loopback (``load``)
  posting 5-line purchases for the API.md example configuration, purchases/s with p50/p99
  latency; beside ``bench/raw_app.py``, a bare endpoint under the same uvicorn that commits the
  same rows with the raw driver. The API worker's peak memory (VmHWM) is read from /proc.
- **bulk import**: ``patron import purchases`` of a JSON Lines file in a child process
  (purchases/s and the child's peak memory), beside ``executemany`` (SQLite) or ``COPY``
  (PostgreSQL) of the same rows.
- **expiry job**: lots expired per second by the expiry job.
- **analytics summary**: latency of the summary over a year at 100,000 members and 1,000,000
  purchases (with ``--quick``: 10,000 and 100,000). The data set is written directly with the
  driver (generating a million purchases through the use cases would take an hour); its shape
  is what the summary reads: members, tiers, purchases with their totals, earn entries with
  their postings, balances.

The load generator runs on the same two cores as the server, so HTTP figures are a floor.
Tests assert no timings; this is where speed is judged.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from bench.earn import raw_rows, sql

from patron.adapters.db import migrate
from patron.bootstrap import Container, build
from patron.config import Settings
from patron.domain.audit import CLI
from patron.services import analytics, api_keys, jobs, ledger, members, programs, webhooks
from patron.services.demo import EXAMPLE_CONFIG
from patron.services.ledger import Context, StoppedClock
from patron.services.programs import load_config
from patron.services.transactions import run_in_transaction, run_read

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
NOW = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
SIZES = {"quick": False}


# --- helpers ---------------------------------------------------------------------------------


def record(backend: str, name: str, figures: dict[str, Any]) -> None:
    """Print the figures and write them to ``bench/results`` (not under ``bench.profile``, whose
    sampling slows everything down)."""
    shown = ", ".join(f"{k} {v}" for k, v in figures.items() if not isinstance(v, dict | list))
    print(f"[{backend}] {name}: {shown}", flush=True)
    if os.environ.get("BENCH_NO_RECORD"):
        return
    RESULTS.mkdir(exist_ok=True)
    payload = {
        "benchmark": name,
        "backend": backend,
        "at": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "quick": SIZES["quick"],
        **figures,
    }
    (RESULTS / f"{backend}-{name}.json").write_text(json.dumps(payload, indent=2) + "\n")


@contextmanager
def database(backend: str, pg_url: str) -> Iterator[str]:
    """A fresh, migrated database of the backend; dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            migrate.upgrade(url)
            yield url
        return
    name = f"patron_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = pg_url.rsplit("/", 1)[0] + "/" + name
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def container_for(url: str) -> Container:
    return build(Settings(database_url=url, auto_upgrade=False, pool_size=8))


def setup_program(box: Container, member_count: int) -> tuple[str, list[str], list[str], str]:
    """The example program, members (ids and external ids) and a pos key."""
    clock = StoppedClock(NOW - timedelta(days=1))
    made = run_in_transaction(
        box.uow,
        lambda uow: programs.create_program(
            uow,
            clock,
            CLI,
            programs.NewProgram(
                slug="bench", name="Bench", currency="USD", timezone="UTC", config=EXAMPLE_CONFIG
            ),
        ),
    )
    program = made.program
    ids: list[str] = []
    externals: list[str] = []
    for start in range(0, member_count, 500):

        def enrol(uow: Any, start: int = start) -> list[str]:
            return [
                members.enrol_member(
                    uow, clock, CLI, program, members.NewMember(external_id=f"B-{n}")
                ).id
                for n in range(start, min(start + 500, member_count))
            ]

        ids += run_in_transaction(box.uow, enrol)
        externals += [f"B-{n}" for n in range(start, min(start + 500, member_count))]
    key = run_in_transaction(
        box.uow,
        lambda uow: api_keys.issue_key(uow, clock, CLI, program=program, name="b", role="pos"),
    )
    return program.id, ids, externals, key.secret


def body(external_id: str, member: dict[str, str]) -> dict[str, Any]:
    """A 5-line store purchase (the same receipt as bench/earn.py)."""
    return {
        "external_id": external_id,
        "member": member,
        "occurred_at": NOW.isoformat(),
        "channel": "store",
        "store_id": "S1",
        "lines": [
            {"sku": "LIP-01", "category": "makeup", "quantity": 2, "unit_price": "12.00"},
            {
                "sku": "SHOE-9",
                "category": "shoes",
                "quantity": 1,
                "unit_price": "89.90",
                "discount": "10.00",
            },
            {"sku": "BAG-1", "category": "bags", "quantity": 1, "unit_price": "45.00"},
            {"sku": "SOCK-3", "category": "socks", "quantity": 3, "unit_price": "4.50"},
            {"sku": "GIFT", "category": "gifts", "quantity": 1, "unit_price": "5.00"},
        ],
        "tax": "20.00",
        "payments": [{"method": "card", "amount": "180.40", "card_type": "cobrand"}],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def uvicorn(target: str, env: dict[str, str], workers: int) -> Iterator[tuple[str, int]]:
    port = free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "--factory", target, "--port", str(port)),
            *("--workers", str(workers), "--log-level", "warning", "--no-access-log"),
        ],
        env={**os.environ, **env},
        cwd=ROOT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{target} did not start") from None
                time.sleep(0.2)
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def worker_peak_kib(master: int) -> int:
    """The largest VmHWM among the uvicorn master's worker processes (or itself)."""
    pids = [master]
    children = Path(f"/proc/{master}/task/{master}/children")
    if children.exists():
        pids = [int(p) for p in children.read_text().split()] or [master]
    peaks = []
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]))
    return max(peaks)


async def load(
    base: str, path: str, headers: dict[str, str], bodies: list[dict[str, Any]], concurrency: int
) -> tuple[float, list[float], int]:
    """POST every body with ``concurrency`` requests in flight; (seconds, latencies, errors).

    The client is a minimal HTTP/1.1 one over asyncio streams: keep-alive connections, requests
    encoded before the clock starts, responses read by their Content-Length. It shares the two
    cores with the server, so it must cost as little as it can: a full-featured client spends
    about a millisecond of CPU per request, which the server's figure would then lose.
    """
    host, port = base.removeprefix("http://").split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    encoded = []
    for item in bodies:
        payload = json.dumps(item).encode()
        encoded.append(
            (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{head}"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
            ).encode()
            + payload
        )
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for request in encoded:
        queue.put_nowait(request)

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while not queue.empty():
                request = queue.get_nowait()
                started = time.perf_counter()
                writer.write(request)
                answer = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in answer.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                content = await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                if answer[9:12] != b"201":
                    errors += 1
                    if errors < 3:
                        print("  error", answer[9:12].decode(), content[:200], flush=True)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, errors


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# --- earn over HTTP --------------------------------------------------------------------------


def earn_http(backend: str, url: str, quick: bool) -> None:
    count = 600 if quick else 4000
    concurrency = 16
    workers = 2 if backend == "postgres" else 1
    box = container_for(url)
    program_id, ids, _, secret = setup_program(box, 200)
    box.close()
    env = {"PATRON_DATABASE_URL": url, "PATRON_RUN_JOBS": "false", "PATRON_POOL_SIZE": "8"}
    bodies = [body(f"H-{i}", {"id": ids[i % len(ids)]}) for i in range(count)]
    warm = [body(f"W-{i}", {"id": ids[i % len(ids)]}) for i in range(100)]
    headers = {"Authorization": f"Bearer {secret}"}
    with uvicorn("patron.api.app:create_app", env, workers) as (base, pid):
        path = "/v1/programs/bench/purchases"
        asyncio.run(load(base, path, headers, warm, concurrency))
        seconds, latencies, errors = asyncio.run(load(base, path, headers, bodies, concurrency))
        peak = worker_peak_kib(pid)
    patron_rate = count / seconds
    raw_env = {**env, "BENCH_PROGRAM_ID": program_id}
    raw_bodies = [body(f"X-{i}", {"id": ids[i % len(ids)]}) for i in range(count)]
    with uvicorn("bench.raw_app:create", raw_env, workers) as (base, _):
        asyncio.run(load(base, "/purchases", {}, warm, concurrency))
        raw_seconds, raw_latencies, raw_errors = asyncio.run(
            load(base, "/purchases", {}, raw_bodies, concurrency)
        )
    raw_rate = count / raw_seconds
    record(
        backend,
        "earn_http",
        {
            "purchases": count,
            "workers": workers,
            "concurrency": concurrency,
            "purchases_per_s": round(patron_rate),
            "p50_ms": round(pct(latencies, 0.5), 1),
            "p99_ms": round(pct(latencies, 0.99), 1),
            "errors": errors,
            "raw_purchases_per_s": round(raw_rate),
            "raw_p50_ms": round(pct(raw_latencies, 0.5), 1),
            "raw_p99_ms": round(pct(raw_latencies, 0.99), 1),
            "raw_errors": raw_errors,
            "ratio": round(patron_rate / raw_rate, 2),
            "api_worker_peak_mib": round(peak / 1024, 1),
            "target_purchases_per_s": 1200,
            "target_p99_ms": 50,
        },
    )


# --- bulk import -----------------------------------------------------------------------------


def import_bench(backend: str, url: str, quick: bool) -> None:
    count = 2000 if quick else 10000
    box = container_for(url)
    program_id, ids, externals, _ = setup_program(box, 500)
    box.close()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "purchases.jsonl"
        with path.open("w") as out:
            for i in range(count):
                item = body(f"I-{i}", {"external_id": externals[i % len(externals)]})
                out.write(json.dumps(item) + "\n")
        measure = (
            "import resource, sys\n"
            "from patron.cli.main import app\n"
            "try:\n"
            "    app(sys.argv[1:], standalone_mode=False)\n"
            "finally:\n"
            "    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "    print(f'peak_kib={kib}', file=sys.stderr)\n"
        )
        started = time.perf_counter()
        done = subprocess.run(
            [
                *(sys.executable, "-c", measure, "import", "purchases", str(path)),
                *("--program", "bench", "--batch", "500"),
            ],
            env={**os.environ, "PATRON_DATABASE_URL": url, "PATRON_AUTO_UPGRADE": "false"},
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stdout, done.stderr)
        raise RuntimeError("import failed")
    peak = int(done.stderr.rsplit("peak_kib=", 1)[1].split()[0])
    rate = count / seconds
    raw_rate = raw_bulk(backend, url, program_id, ids, count)
    record(
        backend,
        "import",
        {
            "purchases": count,
            "purchases_per_s": round(rate),
            "raw_purchases_per_s": round(raw_rate),
            "raw_method": "COPY" if backend == "postgres" else "executemany",
            "ratio": round(rate / raw_rate, 3),
            "import_peak_mib": round(peak / 1024, 1),
            "target_purchases_per_s": 10000,
        },
    )


def members_import_bench(backend: str, url: str, quick: bool) -> None:
    """``patron import members`` of a CSV file of new members (email, names, birthday, two
    consents, an attribute) in a child process: members/s. Every enrolment also earns the
    example configuration's signup bonus, as it would over HTTP."""
    count = 1000 if quick else 5000
    box = container_for(url)
    setup_program(box, 0)
    box.close()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "members.csv"
        with path.open("w") as out:
            out.write(
                "external_id,email,first_name,last_name,birth_date,"
                "consent_email_marketing,consent_sms_marketing,attr_city\n"
            )
            for i in range(count):
                out.write(
                    f"M-{i},m{i}@example.com,Ada,Lovelace,1990-{i % 12 + 1:02d}-1{i % 9},"
                    f"{'true' if i % 3 else 'false'},false,Oslo\n"
                )
        started = time.perf_counter()
        done = subprocess.run(
            [
                *(sys.executable, "-c", "from patron.cli.main import main; main()"),
                *("import", "members", str(path)),
                *("--program", "bench", "--batch", "500"),
            ],
            env={**os.environ, "PATRON_DATABASE_URL": url, "PATRON_AUTO_UPGRADE": "false"},
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stdout, done.stderr)
        raise RuntimeError("import failed")
    record(backend, "import_members", {"members": count, "members_per_s": round(count / seconds)})


def raw_bulk(backend: str, url: str, program_id: str, ids: list[str], count: int) -> float:
    """The same rows an import writes, in 500-purchase transactions, the fastest way the driver
    offers: executemany on SQLite, COPY on PostgreSQL."""
    batches: list[dict[str, list[Any]]] = []
    for start in range(0, count, 500):
        merged: dict[str, list[Any]] = {}
        for i in range(start, min(start + 500, count)):
            rows = raw_rows(program_id, ids[i % len(ids)], f"bulk-{i}")
            for name, value in rows.items():
                merged.setdefault(name, []).extend([value] if name == "purchase" else value)
        batches.append(merged)
    started = time.perf_counter()
    if backend == "sqlite":
        lite = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        for merged in batches:
            lite.execute("BEGIN IMMEDIATE")
            for name in ("purchase", "entries", "postings", "lots", "awards", "balances"):
                lite.executemany(sql(name, "?"), merged[name])
            lite.execute("COMMIT")
        lite.close()
    else:
        columns = {
            "purchase": "purchases (id, program_id, external_id, member_id, occurred_at, "
            "eligible_amount, fingerprint, config_version, document, result, recorded_at)",
            "entries": "ledger_entries (id, program_id, member_id, wallet, type, amount, status, "
            "occurred_at, recorded_at, key)",
            "postings": "ledger_postings (entry_id, program_id, member_id, wallet, source, "
            "destination, amount)",
            "lots": "ledger_lots (id, program_id, member_id, wallet, entry_id, amount, remaining, "
            "earned_at, available_at, pending)",
            "awards": "purchase_awards (purchase_id, rule_id, program_id, member_id, kind, "
            "wallet, amount, occurred_at, entry_id)",
        }
        with psycopg.connect(url) as conn:
            for merged in batches:
                with conn.transaction(), conn.cursor() as cur:
                    for name, target in columns.items():
                        with cur.copy(f"COPY {target} FROM STDIN") as copy:
                            for row in merged[name]:
                                copy.write_row(row)
                    cur.executemany(sql("balances", "%s"), merged["balances"])
    return count / (time.perf_counter() - started)


# --- expiry ----------------------------------------------------------------------------------


def expiry_bench(backend: str, url: str, quick: bool) -> None:
    lots = 5000 if quick else 50000
    box = container_for(url)
    program_id, ids, _, _ = setup_program(box, 1000)
    earned = StoppedClock(NOW - timedelta(days=800))
    per_txn = 1000

    for start in range(0, lots, per_txn):

        def credit(uow: Any, start: int = start) -> None:
            ctx = Context(uow, earned, CLI, programs.get_program(uow, program_id))
            for n in range(start, min(start + per_txn, lots)):
                ledger.earn(ctx, ids[n % len(ids)], wallet="points", amount=10, hold=False)

        run_in_transaction(box.uow, credit)
    # The setup's own facts go out first, so the timing is the expiry (and its facts) alone.
    webhooks.fan_out(box.uow, program_id, NOW)
    started = time.perf_counter()
    report = jobs.run_due(box.uow, NOW, program="bench")
    seconds = time.perf_counter() - started
    expired = run_read(
        box.uow,
        lambda uow: uow.analytics.flows(program_id, ["points"], NOW - timedelta(days=900), NOW)[
            "points"
        ],
    ).expired
    box.close()
    record(
        backend,
        "expiry",
        {
            "lots": lots,
            "points_expired": expired,
            "job_seconds": round(seconds, 2),
            "lots_per_s": round(lots / seconds),
            "jobs": report.done.get("bench", {}),
            "target_lots_per_s": 50000,
        },
    )


# --- analytics summary -----------------------------------------------------------------------


def summary_bench(backend: str, url: str, quick: bool) -> None:
    member_count, purchase_count = (10_000, 100_000) if quick else (100_000, 1_000_000)
    box = container_for(url)
    program_id, _, _, _ = setup_program(box, 1)
    started = time.perf_counter()
    synthesize(backend, url, program_id, member_count, purchase_count)
    loaded = time.perf_counter() - started

    def once() -> float:
        began = time.perf_counter()

        def read(uow: Any) -> dict[str, Any]:
            program = programs.get_program(uow, program_id)
            return analytics.summary(
                uow, program, load_config(uow, program), NOW - timedelta(days=365), NOW
            )

        figures = run_read(box.uow, read)
        assert figures["sales"]["orders"] > 0
        return time.perf_counter() - began

    once()  # warm the caches, as a dashboard that is read more than once would
    timings = [once() for _ in range(3)]
    box.close()
    record(
        backend,
        "summary",
        {
            "members": member_count,
            "purchases": purchase_count,
            "load_seconds": round(loaded, 1),
            "summary_ms_median": round(statistics.median(timings) * 1000),
            "summary_ms_max": round(max(timings) * 1000),
            "target_ms": 1000,
        },
    )


def synthesize(backend: str, url: str, program_id: str, members_n: int, purchases_n: int) -> None:
    """Members, tiers, purchases (with totals), one earn entry and posting per purchase, and
    balances, written directly with the driver."""
    tiers = ("insider", "vib", "rouge")
    start = NOW - timedelta(days=365)

    def member_rows() -> Iterator[tuple[Any, ...]]:
        for n in range(members_n):
            at = (start + timedelta(minutes=n % 500_000)).isoformat()
            yield (
                f"m-{n:08d}",
                program_id,
                f"S-{n}",
                f"{n:016d}",
                f"R{n:09d}",
                "active",
                tiers[n % 7 % 3],
                "{}",
                at,
                at,
                at,
            )

    def purchase_rows() -> Iterator[tuple[Any, ...]]:
        for n in range(purchases_n):
            member = f"m-{n % members_n:08d}" if n % 10 else None
            at = (start + timedelta(seconds=n * 31_536_000 // purchases_n)).isoformat()
            amount = 1000 + (n * 7919) % 20000
            refunded = amount if n % 50 == 0 else 0
            yield (
                f"p-{n:09d}",
                program_id,
                f"E-{n}",
                member,
                at,
                amount,
                "f",
                1,
                "{}",
                "{}",
                at,
                amount,
                refunded,
                amount - refunded,
            )

    def entry_rows() -> Iterator[tuple[Any, ...]]:
        for n in range(purchases_n):
            if n % 10 == 0:
                continue
            at = (start + timedelta(seconds=n * 31_536_000 // purchases_n)).isoformat()
            yield (
                f"e-{n:09d}",
                program_id,
                f"m-{n % members_n:08d}",
                "points",
                "earn",
                100,
                "posted",
                at,
                at,
            )

    def posting_rows() -> Iterator[tuple[Any, ...]]:
        for n in range(purchases_n):
            if n % 10:
                yield (
                    f"e-{n:09d}",
                    program_id,
                    f"m-{n % members_n:08d}",
                    "points",
                    "program:issued",
                    "member:available",
                    100,
                )

    def balance_rows() -> Iterator[tuple[Any, ...]]:
        for n in range(members_n):
            yield (f"m-{n:08d}", "points", program_id, 900, 0, 0, 900, 1)

    tables: list[tuple[str, str, Callable[[], Iterator[tuple[Any, ...]]]]] = [
        (
            "members",
            "id, program_id, external_id, card_number, referral_code, status, tier_code, "
            "attributes, enrolled_at, created_at, updated_at",
            member_rows,
        ),
        (
            "purchases",
            "id, program_id, external_id, member_id, occurred_at, eligible_amount, "
            "fingerprint, config_version, document, result, recorded_at, amount, refunded, "
            "eligible_left",
            purchase_rows,
        ),
        (
            "ledger_entries",
            "id, program_id, member_id, wallet, type, amount, status, occurred_at, recorded_at",
            entry_rows,
        ),
        (
            "ledger_postings",
            "entry_id, program_id, member_id, wallet, source, destination, amount",
            posting_rows,
        ),
        (
            "balances",
            "member_id, wallet, program_id, available, pending, deficit, lifetime_earned, version",
            balance_rows,
        ),
    ]
    if backend == "sqlite":
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN")
        for table, columns, rows in tables:
            marks = ", ".join("?" * len(columns.split(",")))
            conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows())
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.close()
        return
    with psycopg.connect(url) as pg:
        with pg.transaction(), pg.cursor() as cur:
            # The ledger's append-only triggers stay on; they fire on UPDATE and DELETE only.
            for table, columns, rows in tables:
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows():
                        copy.write_row(row)
        pg.execute("ANALYZE")


# --- main ------------------------------------------------------------------------------------

from bench.console import console_bench  # noqa: E402  (it uses the helpers above)
from bench.messages import delivery_bench, earn_bench, messages_bench  # noqa: E402
from bench.portal import portal_bench  # noqa: E402

BENCHMARKS: dict[str, Callable[[str, str, bool], None]] = {
    "earn": earn_http,
    "import": import_bench,
    "import_members": members_import_bench,
    "expiry": expiry_bench,
    "summary": summary_bench,
    "console": console_bench,
    "messages": messages_bench,
    "messages_delivery": delivery_bench,  # each half of "messages" alone
    "messages_earn": earn_bench,
    "portal": portal_bench,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "PATRON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    whole = [name for name in BENCHMARKS if not name.startswith("messages_")]
    parser.add_argument("--only", default=",".join(whole), help="comma-separated names")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    SIZES["quick"] = args.quick
    for backend in args.backends.split(","):
        for name in args.only.split(","):
            with database(backend, args.postgres) as url:
                BENCHMARKS[name](backend, url, args.quick)


if __name__ == "__main__":
    main()
