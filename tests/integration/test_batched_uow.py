"""The batched unit of work changes nothing but speed.

The same members, purchases (with replays, conflicts, anonymous buyers, unknown and closed
members, referrals, tier upgrades, limited rules), refunds and opening balances are imported
into two programs with the same configuration: one on plain units of work, one on batched ones
(``patron.adapters.db.batched``). Every row each program holds afterwards, with random ids
replaced by their creation rank, must be the same, and so must the report of rejected rows.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.cli import transfer
from patron.domain.audit import CLI
from patron.domain.programs import Program
from patron.services import enrolment, members
from patron.services.ports import MemberFilter
from patron.services.transactions import run_in_transaction
from tests.ledger_support import audit, new_program
from tests.support_example import EXAMPLE_CONFIG

NOW = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
CATALOGUE = [
    ("LIP-01", "makeup", "24.00"),
    ("SHOE-1", "shoes", "89.90"),
    ("SER-01", "skincare", "68.00"),
    ("BAG-01", "gift", "4.00"),
    ("EDP-01", "fragrance", "118.00"),
]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PROGRAM_TABLES = (
    "members",
    "member_consents",
    "activity_events",
    "event_awards",
    "balances",
    "ledger_entries",
    "ledger_postings",
    "ledger_lots",
    "purchases",
    "purchase_awards",
    "refunds",
    "member_tiers",
    "tier_history",
    "outbox",
    "referrals",
    "audit_log",
)


def _enrol_all(container: Container, program: Program, count: int, rng: random.Random) -> None:
    """``count`` members; every fifth was referred by an earlier one; C-3 is closed."""
    referrers = [rng.randrange(0, n) if n > 2 and n % 5 == 0 else None for n in range(count)]

    def enrol(uow: Any) -> None:
        codes: list[str] = []
        for n in range(count):
            referrer = referrers[n]
            cmd = members.NewMember(
                external_id=f"C-{n}",
                email=f"c{n}@example.com",
                referred_by=codes[referrer] if referrer is not None else None,
                enrolled_at=NOW - timedelta(days=400),
            )
            made = enrolment.enrol(uow, container.clock, CLI, program, cmd)
            codes.append(str(made.referral_code))
        closed = uow.members.find(program.id, MemberFilter(external_id="C-3"), after=None, limit=1)
        uow.members.update(replace(closed[0], status="closed"))

    run_in_transaction(container.uow, enrol)


def _purchases(rng: random.Random, count: int, members_n: int, *, noise: bool = True) -> list[str]:
    lines: list[str] = []
    bodies: list[dict[str, Any]] = []
    for n in range(count):
        basket = rng.sample(CATALOGUE, rng.randrange(1, 4))
        doc_lines = [
            {"sku": sku, "category": cat, "quantity": rng.choice((1, 1, 2)), "unit_price": price}
            for sku, cat, price in basket
        ]
        subtotal = sum(Decimal(x["unit_price"]) * x["quantity"] for x in doc_lines)
        at = NOW - timedelta(days=rng.randrange(0, 420), minutes=rng.randrange(0, 600))
        who = rng.random()
        body: dict[str, Any] = {
            "external_id": f"P-{n}",
            "occurred_at": at.isoformat(),
            "channel": rng.choice(("store", "online", "app")),
            "lines": doc_lines,
            "payments": [
                {
                    "method": "card",
                    "amount": str(subtotal),
                    "card_type": "cobrand" if rng.random() < 0.2 else "visa",
                }
            ],
        }
        if who < 0.9 or not noise:
            body["member"] = {"external_id": f"C-{rng.randrange(0, members_n)}"}
        elif who < 0.95:
            body["member"] = {"external_id": "C-999"}  # nobody: rejected
        bodies.append(body)
        lines.append(json.dumps(body))
        if not noise:
            continue
        if rng.random() < 0.05 and bodies:
            lines.append(json.dumps(rng.choice(bodies)))  # a resend: already there
        if rng.random() < 0.03:
            other = dict(rng.choice(bodies), channel="app", store_id="X")
            lines.append(json.dumps(other))  # the same key, another body: a conflict
    if not noise:
        return lines
    future = dict(
        bodies[0], external_id="P-future", occurred_at=(NOW + timedelta(days=3)).isoformat()
    )
    lines.append(json.dumps(future))
    lines.append("{not json")
    return lines


def _refunds(rng: random.Random, count: int) -> list[str]:
    lines = []
    for n in rng.sample(range(count), 15):
        body: dict[str, Any] = {"purchase": f"P-{n}", "external_id": f"R-{n}"}
        if rng.random() < 0.5:
            body["amount"] = "5.00"
        lines.append(json.dumps(body))
    lines.append(json.dumps({"purchase": "P-nowhere", "external_id": "R-x"}))
    return lines


def _balances(members_n: int) -> list[str]:
    return [
        json.dumps({"member_external_id": f"C-{n}", "amount": "120", "reference": f"old-{n}"})
        for n in range(0, members_n, 3)
    ] + [json.dumps({"member_external_id": "C-999", "amount": "5"})]


def _members(rng: random.Random, count: int, members_n: int) -> list[str]:
    """New members, some referred by an existing one (``{code:N}`` stands for C-N's referral
    code), with consents, phones, backdated enrolments, and rows refused as they are applied
    (a taken email, a bad email, an unknown referral code) or already there."""
    lines: list[str] = []
    for n in range(count):
        body: dict[str, Any] = {
            "external_id": f"N-{n}",
            "email": f"n{n}@example.com",
            "first_name": rng.choice(("Ada", "Grace", "Alan")),
            "consents": {
                "email_marketing": rng.random() < 0.6,
                "sms_marketing": {"granted": True, "at": "2026-01-02T03:04:05Z", "source": "store"},
            },
        }
        if rng.random() < 0.3:
            body["phone"] = f"+3361234{n:04d}"
        if rng.random() < 0.2:
            body["referred_by"] = f"{{code:{rng.randrange(0, members_n)}}}"
        if rng.random() < 0.2:
            body["enrolled_at"] = (NOW - timedelta(days=rng.randrange(1, 300))).isoformat()
        if rng.random() < 0.1:
            body["birth_date"] = "1990-02-03"
        lines.append(json.dumps(body))
        if rng.random() < 0.05:
            lines.append(json.dumps(dict(body, external_id=f"N-{n}-twin")))  # email taken
        if rng.random() < 0.04:
            lines.append(json.dumps({"external_id": f"N-{n}-bad", "email": "not an email"}))
        if rng.random() < 0.04:
            lines.append(json.dumps(body))  # a resend: already there
        if rng.random() < 0.04:
            lines.append(json.dumps({"external_id": f"C-{rng.randrange(0, members_n)}"}))
    lines.append(json.dumps({"external_id": "N-ref", "referred_by": "NOBODY99"}))
    return lines


def _codes(container: Container, program: Program, lines: list[str]) -> list[str]:
    """``lines`` with each ``{code:N}`` replaced by C-N's referral code in ``program``."""
    with container.engine.connect() as conn:
        codes = dict(
            conn.execute(
                sa.select(t.members.c.external_id, t.members.c.referral_code).where(
                    t.members.c.program_id == program.id
                )
            ).all()
        )
    return [
        re.sub(r"\{code:(\d+)\}", lambda m: str(codes[f"C-{m.group(1)}"]), line) for line in lines
    ]


def _snapshot(container: Container, program: Program) -> dict[str, list[Any]]:
    """Every row of the program, random ids and codes replaced by their creation rank."""
    tables = {name: t.metadata.tables[name] for name in PROGRAM_TABLES}
    rows: dict[str, list[dict[str, Any]]] = {}
    with container.engine.connect() as conn:
        for name, table in tables.items():
            found = conn.execute(sa.select(table).where(table.c.program_id == program.id))
            rows[name] = [dict(r._mapping) for r in found]
        # The two programs differ only in their names, which their creation recorded.
        rows["audit_log"] = [r for r in rows["audit_log"] if r["action"] != "program.created"]
        entry_ids = [r["id"] for r in rows["ledger_entries"]]
        consumed = conn.execute(
            sa.select(t.lot_consumptions).where(t.lot_consumptions.c.entry_id.in_(entry_ids))
        )
        rows["lot_consumptions"] = [dict(r._mapping) for r in consumed]
    labels: dict[str, str] = {program.id: "program"}
    for name, found in rows.items():
        if found and isinstance(found[0].get("id"), str):  # UUIDv7: their order is creation's
            for rank, row in enumerate(sorted(found, key=lambda r: str(r["id"]))):
                labels[row["id"]] = f"{name}#{rank}"
        else:
            for row in found:
                row.pop("id", None)  # a sequence number: it follows the order of the inserts
    for rank, row in enumerate(sorted(rows["members"], key=lambda r: str(r["external_id"]))):
        labels[row.pop("referral_code")] = f"code#{rank}"
        row.pop("card_number")
    for row in rows["member_consents"]:
        row.pop("id", None)

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, str):
            return UUID.sub(lambda m: labels.get(m.group(0), m.group(0)), labels.get(value, value))
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        return value

    return {
        name: sorted(
            (plain(r) for r in found), key=lambda r: json.dumps(r, sort_keys=True, default=str)
        )
        for name, found in rows.items()
    }


def _import(
    container: Container, program: Program, kind: Any, lines: list[str], *, batched: bool
) -> list[tuple[int, str, str]]:
    outcome = transfer.run_import(
        container.uow,
        container.clock,
        program.slug,
        kind,
        "jsonl",
        lines,
        batch=40,
        batched=batched,
    )
    with container.engine.connect() as conn:
        ids = conn.execute(
            sa.select(t.members.c.id, t.members.c.external_id).where(
                t.members.c.program_id == program.id
            )
        ).all()

    def named(reason: str) -> str:
        for member_id, external_id in ids:
            reason = reason.replace(member_id, external_id)
        return reason

    return [(row, key, named(reason)) for row, key, reason in outcome.rejections]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_batched_import_writes_exactly_what_a_plain_one_writes(
    container: Container, seed: int
) -> None:
    members_n, purchases_n = 30, 220
    plain = new_program(container, slug="plain", config=EXAMPLE_CONFIG)
    batched = new_program(container, slug="batched", config=EXAMPLE_CONFIG)
    for program in (plain, batched):
        _enrol_all(container, program, members_n, random.Random(seed))
    rng = random.Random(seed)
    files = [
        ("members", _members(rng, 90, members_n)),
        ("purchases", _purchases(rng, purchases_n, members_n)),
        ("refunds", _refunds(rng, purchases_n)),
        ("balances", _balances(members_n)),
    ]
    rejected: dict[str, list[tuple[int, str, str]]] = {}
    for kind, lines in files:
        rejected_plain = _import(
            container, plain, kind, _codes(container, plain, lines), batched=False
        )
        rejected_batched = _import(
            container, batched, kind, _codes(container, batched, lines), batched=True
        )
        assert rejected_batched == rejected_plain, kind
        rejected[kind] = rejected_batched
        after_plain, after_batched = _snapshot(container, plain), _snapshot(container, batched)
        assert after_batched == after_plain, _first_difference(after_batched, after_plain)
    snapshot = _snapshot(container, batched)
    # The data set exercises what it should: rejections, tiers, referrals, refunds.
    assert len(snapshot["purchases"]) > purchases_n * 0.8
    assert {r["to_code"] for r in snapshot["tier_history"]} >= {"vib"}
    assert any(r["status"] == "completed" for r in snapshot["referrals"])
    assert len(snapshot["member_consents"]) > 100
    reasons = " ".join(reason for _, _, reason in rejected["members"])
    assert "already used by another member: email" in reasons
    assert "referred_by" in reasons
    assert snapshot["refunds"]
    assert audit(container) == []


def test_a_batch_reads_ahead_and_writes_at_commit(container: Container) -> None:
    """A batch of plain purchases by known members reads its members, balances and tiers in a
    handful of statements and writes everything at commit: the statement count does not grow
    with the purchases (the point of batching; a regression would silently fall back to one
    round trip per read)."""
    program = new_program(container, slug="shop", config=EXAMPLE_CONFIG)
    _enrol_all(container, program, 10, random.Random(3))
    rng = random.Random(4)
    lines = [line for line in _purchases(rng, 150, 10, noise=False) if '"C-3"' not in line]
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(container.engine, "before_cursor_execute", count)
    try:
        outcome = transfer.run_import(
            container.uow, container.clock, "shop", "purchases", "jsonl", lines, batch=1000
        )
    finally:
        sa.event.remove(container.engine, "before_cursor_execute", count)
    assert outcome.imported > 100
    assert len(statements) < 60, statements


def _first_difference(batched: dict[str, list[Any]], plain: dict[str, list[Any]]) -> str:
    for name, rows in batched.items():
        for mine, theirs in zip(rows, plain[name], strict=False):
            if mine != theirs:
                return f"{name}:\n batched {mine}\n plain   {theirs}"
        if len(rows) != len(plain[name]):
            return f"{name}: {len(rows)} rows batched, {len(plain[name])} plain"
    return "?"
