"""The console's speed targets (issue 15): at 100,000 members and 1,000,000 purchases, the
dashboard answers in ≤ 1 s and a member search in ≤ 100 ms, and the page of a member with 1,000
ledger entries in ≤ 150 ms, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.suite --only console [--quick] [--backends sqlite,postgres]

The data set is the analytics benchmark's (``suite.synthesize``: members, tiers, purchases with
totals, earn entries, balances, written with the driver), with names for every member (a few
hundred first and last names, some accented, so a prefix matches hundreds of members as on a
real program) and their search keys; one more member gets 1,000 entries through the real
purchase use case. Pages are requested through the whole web app (routing, session, role check,
services, template) in-process, signed in as an owner; each figure is the median of five
requests after one warm-up.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from datetime import timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from patron.domain.audit import CLI
from patron.domain.members import full_name_key, name_key
from patron.services import members, staff, staff_sessions
from patron.services.ledger import StoppedClock
from patron.services.programs import get_program
from patron.services.transactions import run_in_transaction
from patron.web import create_app

FIRST = ("Ada", "Grace", "Élodie", "Jürgen", "Mia", "Noah", "Zoë", "Liam", "Søren", "Ana", "Omar")
LAST = (
    "Hopper",
    "Lovelace",
    "Müller",
    "Dubois",
    "García",
    "Nguyen",
    "Smith",
    "Østergaard",
    "Rossi",
    "Kowalski",
    "Tanaka",
    "O'Brien",
    "Ibáñez",
)
PASSWORD = "benchmark password 1"


def _names(n: int) -> tuple[str, str]:
    first = FIRST[n % len(FIRST)] + ("" if n % 3 else f"-{n % 97}")
    last = LAST[(n // len(FIRST)) % len(LAST)] + f"{n % 53}"
    return first, last


def name_members(backend: str, url: str, program_id: str, count: int) -> None:
    """Give the synthesized members names, emails and their search keys."""
    rows = []
    for n in range(count):
        first, last = _names(n)
        rows.append(
            (
                first,
                last,
                name_key(first),
                name_key(last),
                full_name_key(first, last),
                f"m{n}@bench.example",
                f"m{n}@bench.example",
                f"m-{n:08d}",
            )
        )
    sql = (
        "UPDATE members SET first_name = {p}, last_name = {p}, first_key = {p}, last_key = {p}, "
        "name_key = {p}, email = {p}, email_key = {p} WHERE id = {p}"
    )
    if backend == "sqlite":
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN")
        conn.executemany(sql.format(p="?"), rows)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.close()
        return
    with psycopg.connect(url) as pg:
        with pg.transaction(), pg.cursor() as cur:
            cur.executemany(sql.format(p="%s"), rows)
        pg.execute("ANALYZE members")


def heavy_member(box: Any, client: TestClient, program_id: str, key: str, now: Any) -> str:
    """A member with 1,000 purchases (one earn entry each), recorded through the API."""
    from bench.suite import body

    clock = StoppedClock(now - timedelta(days=2))
    program = run_in_transaction(box.uow, lambda uow: get_program(uow, program_id))
    member = run_in_transaction(
        box.uow,
        lambda uow: members.enrol_member(
            uow,
            clock,
            CLI,
            program,
            members.NewMember(
                external_id="HEAVY",
                first_name="Heavy",
                last_name="Shopper",
                email="heavy@bench.example",
            ),
        ),
    )
    for n in range(1000):
        answer = client.post(
            "/v1/programs/bench/purchases",
            json=body(f"H-{n}", {"id": member.id}),
            headers={"Authorization": f"Bearer {key}"},
        )
        assert answer.status_code == 201, answer.text[:300]
    return member.id


def signed_in_client(box: Any, program_id: str) -> TestClient:
    program = run_in_transaction(box.uow, lambda uow: get_program(uow, program_id))
    made = run_in_transaction(
        box.uow,
        lambda uow: staff.create(
            uow, box.clock, CLI, email="owner@bench.example", role="owner", program=program
        ),
    )
    run_in_transaction(
        box.uow,
        lambda uow: staff_sessions.set_password(
            uow,
            box.clock,
            token=made.link_token,
            password=PASSWORD,
            confirm=PASSWORD,
            policy=staff_sessions.Policy(),
        ),
    )
    client = TestClient(create_app(box), base_url="http://127.0.0.1")
    client.__enter__()
    page = client.get("/console/login")
    token = page.text.split('name="token" value="', 1)[1].split('"', 1)[0]
    done = client.post(
        "/console/login",
        data={"email": "owner@bench.example", "password": PASSWORD, "token": token},
    )
    assert done.status_code == 200, done.status_code
    return client


def timed(client: TestClient, path: str, runs: int = 5) -> dict[str, Any]:
    first = client.get(path)
    assert first.status_code == 200, (path, first.status_code, first.text[:300])
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(path)
        timings.append(time.perf_counter() - began)
        assert response.status_code == 200
    return {
        "median_ms": round(statistics.median(timings) * 1000, 1),
        "max_ms": round(max(timings) * 1000, 1),
    }


def console_bench(backend: str, url: str, quick: bool) -> None:
    from bench.suite import NOW, container_for, record, setup_program, synthesize

    member_count, purchase_count = (10_000, 100_000) if quick else (100_000, 1_000_000)
    box = container_for(url)
    program_id, _, _, key = setup_program(box, 1)
    started = time.perf_counter()
    synthesize(backend, url, program_id, member_count, purchase_count)
    name_members(backend, url, program_id, member_count)
    client = signed_in_client(box, program_id)
    heavy = heavy_member(box, client, program_id, key, NOW)
    loaded = time.perf_counter() - started
    base = "/console/programs/bench"
    figures = {
        "members": member_count,
        "purchases": purchase_count,
        "load_seconds": round(loaded, 1),
        "dashboard_30_days": timed(client, f"{base}/"),
        "dashboard_12_months": timed(client, f"{base}/?period=12m"),
        "search_name_prefix": timed(client, f"{base}/members?q=gra"),
        "search_two_words": timed(client, f"{base}/members?q=grace+hop"),
        "search_email": timed(client, f"{base}/members?q=m4242%40bench.example"),
        "member_page_1000_entries": timed(client, f"{base}/members/{heavy}"),
        "targets_ms": {"dashboard": 1000, "search": 100, "member_page": 150},
    }
    client.__exit__(None, None, None)
    box.close()
    record(backend, "console", figures)
    for name, value in figures.items():
        if isinstance(value, dict) and "median_ms" in value:
            print(f"[{backend}]   {name}: median {value['median_ms']} ms, max {value['max_ms']} ms")
