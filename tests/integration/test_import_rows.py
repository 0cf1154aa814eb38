"""`patron import` row by row: what a bad row costs, how the report names it, what JSON Lines
numbers it refuses, and an export of members that imports again with its consents."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.cli import transfer
from patron.cli.main import app
from patron.domain.programs import Program
from tests.factories import MutableClock, auth, enrol, platform_key, program_key
from tests.ledger_support import audit, balance, new_program
from tests.support_example import EXAMPLE_CONFIG


@pytest.fixture
def runner(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PATRON_DATABASE_URL", db_url)
    return CliRunner()


@pytest.fixture
def shop(container: Container) -> Program:
    return new_program(container, slug="shop", config=EXAMPLE_CONFIG)


def member_id(container: Container, program: Program, external_id: str) -> str:
    with container.engine.connect() as conn:
        found = conn.execute(
            sa.select(t.members.c.id).where(
                t.members.c.program_id == program.id, t.members.c.external_id == external_id
            )
        ).scalar_one()
    return str(found)


def report_of(path: Path) -> list[dict[str, str]]:
    with path.with_name(path.name + ".rejected.csv").open() as handle:
        return list(csv.DictReader(handle))


def purchase(n: int, member: str, **changes: Any) -> dict[str, Any]:
    body = {
        "external_id": f"P-{n}",
        "occurred_at": "2026-03-05T10:00:00Z",
        "member": {"external_id": member},
        "lines": [{"sku": "B-1", "category": "books", "quantity": 1, "unit_price": "7.00"}],
    }
    return body | changes


def count_statements(container: Container) -> list[str]:
    statements: list[str] = []
    sa.event.listen(
        container.engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    return statements


def members_file(count: int) -> list[str]:
    return [
        json.dumps(
            {
                "external_id": f"M-{n}",
                "email": f"m{n}@example.com",
                "first_name": "Ada",
                "consents": {"email_marketing": n % 2 == 0},
            }
        )
        for n in range(count)
    ]


def test_a_members_batch_is_written_in_a_few_statements(
    container: Container, shop: Program
) -> None:
    """Enrolments used to cost about 30 statements each (46 to 72 rows/s on PostgreSQL)."""
    statements = count_statements(container)
    outcome = transfer.run_import(
        container.uow, container.clock, "shop", "members", "jsonl", members_file(200), batch=500
    )
    assert (outcome.imported, outcome.rejected) == (200, 0)
    assert len(statements) < 40, len(statements)
    with container.engine.connect() as conn:
        consents = conn.exec_driver_sql("SELECT count(*) FROM member_consents").scalar_one()
    assert consents == 200
    assert audit(container) == []


def test_a_bad_row_costs_only_itself_not_a_replay_of_its_batch(
    container: Container, shop: Program
) -> None:
    """A row refused half-way through a batch used to make the whole batch run again one row
    at a time (about 26 statements a purchase); now the rows around it stay batched."""
    transfer.run_import(
        container.uow, container.clock, "shop", "members", "jsonl", members_file(10)
    )
    lines = [json.dumps(purchase(n, f"M-{n % 10}")) for n in range(150)]
    lines[70] = json.dumps(purchase(70, "M-404"))  # no such member: refused by the use case
    statements = count_statements(container)
    outcome = transfer.run_import(
        container.uow, container.clock, "shop", "purchases", "jsonl", lines, batch=500
    )
    assert (outcome.imported, outcome.rejected) == (149, 1)
    assert outcome.rejections == [(71, "P-70", "no member with this external_id in this program")]
    assert len(statements) < 150, len(statements)
    assert audit(container) == []


def test_rejections_are_reported_in_row_order_with_the_api_s_field_paths(
    runner: CliRunner, client: TestClient, container: Container, shop: Program, tmp_path: Path
) -> None:
    path = tmp_path / "members.jsonl"
    rows = [
        {"external_id": "A-1", "email": "ada@example.com"},
        {"external_id": "A-2", "email": "ada@example.com"},  # taken by row 1: refused applying
        {"external_id": "A-3"},
        {"external_id": "A-4", "consents": {"sms_marketing": "yes"}},  # refused validating
        {"external_id": "A-5", "email": "ada@example.com"},  # taken: refused applying
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = runner.invoke(app, ["import", "members", str(path), "--program", "shop"])
    assert result.exit_code == 1, result.output
    report = report_of(path)
    assert [r["row"] for r in report] == ["2", "4", "5"]
    assert "email" in report[0]["reason"]
    assert report[1]["reason"].startswith("consents.sms_marketing")

    bad = purchase(1, "A-1", lines=[{"sku": "B-1", "quantity": "two", "unit_price": "7.00"}])
    purchases = tmp_path / "purchases.jsonl"
    purchases.write_text(json.dumps(bad) + "\n")
    runner.invoke(app, ["import", "purchases", str(purchases), "--program", "shop"])
    reason = report_of(purchases)[0]["reason"]
    # The API names the same field the same way.
    key = program_key(client, platform_key(container), program="shop")
    answer = client.post("/v1/programs/shop/purchases", json=bad, headers=auth(key))
    assert answer.status_code == 422
    api_paths = [error["path"] for error in answer.json()["errors"]]
    assert reason.split(": ")[0] in api_paths


@pytest.mark.parametrize(
    ("line", "why"),
    [
        # orjson read these integers as floats: the first was stored as 1.2345678901234568e+29
        ('{"external_id": "B", "attributes": {"n": 123456789012345678901234567890}}', "64 bits"),
        ('{"external_id": "B", "attributes": {"n": -9223372036854775809}}', "64 bits"),
        ('{"external_id": "B", "attributes": {"n": NaN}}', "NaN is not a JSON number"),
        ('{"external_id": "B", "attributes": {"n": -Infinity}}', "-Infinity is not a JSON"),
        ('{"external_id": "B", "attributes": {"n": 1e400}}', "out of range"),
    ],
)
def test_numbers_json_cannot_hold_exactly_are_refused(
    container: Container, shop: Program, line: str, why: str
) -> None:
    lines = [line, '{"external_id": "C", "attributes": {"n": 9223372036854775807}}']
    outcome = transfer.run_import(container.uow, container.clock, "shop", "members", "jsonl", lines)
    assert (outcome.imported, outcome.rejected) == (1, 1)
    ((row, _, reason),) = outcome.rejections
    assert row == 1
    assert why in reason, reason
    with container.engine.connect() as conn:
        kept = conn.exec_driver_sql("SELECT external_id, attributes FROM members").all()
    assert [(k, json.loads(a) if isinstance(a, str) else a) for k, a in kept] == [
        ("C", {"n": 9223372036854775807})
    ]


@pytest.mark.parametrize(
    ("kind", "body", "why"),
    [
        (
            "purchases",
            purchase(1, "X", lines=[{"sku": "B", "quantity": 2.0, "unit_price": 1}]),
            "lines[0].quantity: Input should be a valid integer",
        ),
        (
            "purchases",
            purchase(1, "X", lines=[{"sku": "B", "quantity": 1e30, "unit_price": 1}]),
            "lines[0].quantity: Input should be a valid integer",
        ),
        ("balances", {"member_external_id": "X", "amount": 2**70}, "amount: an integer must fit"),
    ],
)
def test_floats_where_integers_belong_and_huge_amounts_are_refused(
    container: Container, shop: Program, kind: Any, body: dict[str, Any], why: str
) -> None:
    outcome = transfer.run_import(
        container.uow, container.clock, "shop", kind, "jsonl", [json.dumps(body)]
    )
    assert outcome.rejected == 1
    assert why in outcome.rejections[0][2], outcome.rejections


def consent_records(container: Container, program: Program) -> dict[str, dict[str, Any]]:
    """Each member's latest consent per channel: (granted, when, source)."""
    c, m = t.member_consents.c, t.members.c
    with container.engine.connect() as conn:
        rows = conn.execute(
            sa.select(m.external_id, c.channel, c.granted, c.recorded_at, c.source)
            .join(t.members, m.id == c.member_id)
            .where(m.program_id == program.id)
            .order_by(c.id)
        ).all()
    found: dict[str, dict[str, Any]] = {}
    for external_id, channel, granted, at, source in rows:
        found.setdefault(external_id, {})[channel] = (bool(granted), at.isoformat(), source)
    return found


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_of_members_imports_again_with_consents_and_balances(
    runner: CliRunner,
    client: TestClient,
    container: Container,
    clock: MutableClock,
    tmp_path: Path,
    fmt: str,
) -> None:
    platform = platform_key(container)
    shop, copy = (
        new_program(container, slug=slug, config=EXAMPLE_CONFIG) for slug in ("shop", "copy")
    )
    key = program_key(client, platform, program="shop")
    ada = enrol(
        client,
        key,
        program="shop",
        external_id="C-1",
        email="ada@example.com",
        attributes={"city": "Oslo"},
        consents={
            "email_marketing": {"granted": True, "at": "2025-11-02T08:30:00Z", "source": "store"},
            "sms_marketing": False,
        },
    )
    enrol(client, key, program="shop", external_id="C-2", consents={"email_marketing": True})
    clock.advance(days=3)
    withdrawn = client.patch(
        f"/v1/programs/shop/members/{ada['id']}",
        json={"consents": {"email_marketing": {"granted": False, "source": "unsubscribe-link"}}},
        headers=auth(key),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    adjusted = client.post(
        f"/v1/programs/shop/members/{ada['id']}/adjustments",
        json={"wallet": "points", "amount": 120, "reason": "goodwill"},
        headers=auth(key),
    )
    assert adjusted.status_code == 201, adjusted.text

    exported = tmp_path / f"members.{fmt}"
    result = runner.invoke(
        app, ["export", "members", "--program", "shop", "--format", fmt, "-o", str(exported)]
    )
    assert result.exit_code == 0, result.output
    if fmt == "jsonl":
        first = json.loads(exported.read_text().splitlines()[0])
        assert first["consents"]["email_marketing"]["source"] == "unsubscribe-link"
        assert first["balances"] == {
            "credit": {"available": 0, "pending": 0},
            "points": {"available": 170, "pending": 0},
        }

    imported = runner.invoke(
        app, ["import", "members", str(exported), "--program", "copy", "--format", fmt]
    )
    assert imported.exit_code == 0, imported.output
    assert "2 imported" in imported.stdout
    expected = consent_records(container, shop)
    assert expected["C-1"]["email_marketing"] == (
        False,
        "2026-03-10T10:00:00+00:00",
        "unsubscribe-link",
    )
    assert expected["C-1"]["sms_marketing"][:2] == (False, "2026-03-07T10:00:00+00:00")
    assert consent_records(container, copy) == expected

    balances = tmp_path / f"balances.{fmt}"
    runner.invoke(
        app, ["export", "balances", "--program", "shop", "--format", fmt, "-o", str(balances)]
    )
    opening = runner.invoke(
        app, ["import", "balances", str(balances), "--program", "copy", "--format", fmt]
    )
    assert opening.exit_code == 0, opening.output
    assert "2 imported" in opening.stdout  # C-1's 170 points and C-2's 50
    copy_ada = member_id(container, copy, "C-1")
    found = balance(container, copy, copy_ada)
    assert found.available == 50 + 170  # its own signup bonus, then the opening balance
    assert audit(container) == []
