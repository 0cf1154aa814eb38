"""`patron import` and `patron export`: the API's rules, batches, a report of bad rows, and a
rerun after a crash that doubles nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.cli import transfer
from patron.cli.main import app
from patron.domain.programs import Program
from tests.ledger_support import audit, balance, new_program
from tests.support_example import EXAMPLE_CONFIG

# Enrolled before the purchases below: a member's purchase may not be dated more than the
# program's anonymous_claim_days before their enrolment.
MEMBERS_CSV = """\
external_id,email,first_name,birth_date,consent_email_marketing,attr_city,enrolled_at
C-1,ada@example.com,Ada,1990-05-04,true,Oslo,2026-03-01T00:00:00Z
C-2,grace@example.com,Grace,,false,,2026-03-01T00:00:00Z
C-3,not-an-email,Alan,,,,
,nobody@example.com,Nobody,,,,
C-4,ada@example.com,Twin,,,,
"""

PURCHASES_CSV = """\
external_id,member_external_id,occurred_at,channel,sku,category,quantity,unit_price
P-1,C-1,2026-03-05T10:00:00Z,store,S-1,shoes,1,40.00
P-1,C-1,2026-03-05T10:00:00Z,store,LIP-01,makeup,2,10.00
P-2,C-2,2026-03-05T11:00:00Z,online,B-1,books,1,12.50
P-3,,2026-03-05T12:00:00Z,store,B-1,books,1,7.00
P-4,C-9,2026-03-05T12:00:00Z,store,B-1,books,1,7.00
"""


@pytest.fixture
def runner(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PATRON_DATABASE_URL", db_url)
    return CliRunner()


@pytest.fixture
def shop(container: Container) -> Program:
    return new_program(container, slug="shop", config=EXAMPLE_CONFIG)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def rejected(path: Path) -> list[dict[str, str]]:
    report = path.with_name(path.name + ".rejected.csv")
    with report.open() as handle:
        return list(csv.DictReader(handle))


def member_id(container: Container, external_id: str) -> str:
    with container.engine.connect() as conn:
        found = conn.execute(
            sa.select(t.members.c.id).where(t.members.c.external_id == external_id)
        ).scalar_one()
    return str(found)


def test_members_import_with_a_report_of_bad_rows_and_a_harmless_rerun(
    runner: CliRunner, container: Container, shop: Program, tmp_path: Path
) -> None:
    path = write(tmp_path, "members.csv", MEMBERS_CSV)
    result = runner.invoke(app, ["import", "members", str(path), "--program", "shop"])
    assert result.exit_code == 1, result.output
    assert "2 imported, 0 already there, 3 rejected" in result.stdout
    reasons = {row["row"]: row["reason"] for row in rejected(path)}
    assert set(reasons) == {"3", "4", "5"}
    assert "email" in reasons["3"]
    assert "external_id" in reasons["4"]
    assert "taken" in reasons["5"] or "already" in reasons["5"]

    again = runner.invoke(app, ["import", "members", str(path), "--program", "shop"])
    assert "0 imported, 2 already there, 3 rejected" in again.stdout
    exported = runner.invoke(app, ["export", "members", "--program", "shop"])
    members = [json.loads(line) for line in exported.stdout.splitlines()]
    assert sorted(m["external_id"] for m in members) == ["C-1", "C-2"]
    ada = next(m for m in members if m["external_id"] == "C-1")
    assert ada["attributes"] == {"city": "Oslo"}
    assert ada["birth_date"] == "1990-05-04"
    # Enrolment through import fires the same rules as the API: the signup bonus.
    assert balance(container, shop, ada["id"]).available == 50


def test_purchases_import_earns_what_the_api_would_and_refunds_claw_back(
    runner: CliRunner, container: Container, shop: Program, tmp_path: Path
) -> None:
    members = write(tmp_path, "members.csv", MEMBERS_CSV)
    runner.invoke(app, ["import", "members", str(members), "--program", "shop"])
    path = write(tmp_path, "purchases.csv", PURCHASES_CSV)
    result = runner.invoke(app, ["import", "purchases", str(path), "--program", "shop"])
    assert "3 imported, 0 already there, 1 rejected" in result.stdout, result.output
    assert [r["key"] for r in rejected(path)] == ["P-4"]
    ada = member_id(container, "C-1")
    # 50 signup + P-1: base 60, shoes 80, lipstick 2 x 50, visit 10, welcome 100 (Thursday).
    assert balance(container, shop, ada).available == 50 + 60 + 80 + 100 + 10 + 100

    refunds = write(
        tmp_path,
        "refunds.jsonl",
        '{"purchase": "P-1", "external_id": "R-1", "lines": [{"sku": "LIP-01", "quantity": 2}]}\n'
        '{"purchase": "P-404", "external_id": "R-2"}\n',
    )
    result = runner.invoke(app, ["import", "refunds", str(refunds), "--program", "shop"])
    assert "1 imported, 0 already there, 1 rejected" in result.stdout, result.output
    after = balance(container, shop, ada).available
    assert after < 50 + 350
    again = runner.invoke(app, ["import", "refunds", str(refunds), "--program", "shop"])
    assert "0 imported, 1 already there" in again.stdout
    assert balance(container, shop, ada).available == after

    exported = runner.invoke(app, ["export", "purchases", "--program", "shop", "--format", "csv"])
    rows = list(csv.DictReader(exported.stdout.splitlines()))
    assert sorted(r["external_id"] for r in rows) == ["P-1", "P-2", "P-3"]
    p1 = next(r for r in rows if r["external_id"] == "P-1")
    assert (p1["amount"], p1["refunded"]) == ("6000", "2000")
    assert audit(container) == []


def test_opening_balances_are_credited_once(
    runner: CliRunner, container: Container, shop: Program, tmp_path: Path
) -> None:
    members = write(tmp_path, "members.csv", MEMBERS_CSV)
    runner.invoke(app, ["import", "members", str(members), "--program", "shop"])
    path = write(
        tmp_path,
        "balances.csv",
        "member_external_id,wallet,amount,earned_at\n"
        "C-1,points,1200,2026-01-15T00:00:00Z\n"
        "C-2,credit,7.50,\n"
        "C-2,points,12.5,\n",
    )
    first = runner.invoke(app, ["import", "balances", str(path), "--program", "shop"])
    assert "2 imported, 0 already there, 1 rejected" in first.stdout, first.output
    second = runner.invoke(app, ["import", "balances", str(path), "--program", "shop"])
    assert "0 imported, 2 already there, 1 rejected" in second.stdout
    assert balance(container, shop, member_id(container, "C-1")).available == 50 + 1200
    credit = balance(container, shop, member_id(container, "C-2"), wallet="credit")
    assert credit.available == 750
    ledger = runner.invoke(app, ["export", "ledger", "--program", "shop"])
    reasons = [orjson.loads(line)["reason"] for line in ledger.stdout.splitlines()]
    assert reasons.count("opening balance (import)") == 2
    assert audit(container) == []


def test_an_import_that_crashed_half_way_resumes_without_doubling(
    container: Container, shop: Program, tmp_path: Path
) -> None:
    lines = ["external_id,email"] + [f"M-{n},m{n}@example.com" for n in range(40)]

    class Crash(Exception):
        pass

    batches = 0

    def crash_after_two(_: transfer.Outcome) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise Crash

    with pytest.raises(Crash):
        transfer.run_import(
            container.uow,
            container.clock,
            "shop",
            "members",
            "csv",
            lines,
            batch=7,
            on_batch=crash_after_two,
        )
    resumed = transfer.run_import(
        container.uow, container.clock, "shop", "members", "csv", lines, batch=7
    )
    assert (resumed.imported, resumed.existing, resumed.rejected) == (26, 14, 0)
    with container.engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM members").scalar_one()
        earned = conn.exec_driver_sql("SELECT count(*) FROM ledger_entries").scalar_one()
    assert count == 40
    assert earned == 40  # one signup bonus each, none twice
    assert audit(container) == []


def test_import_refuses_unknown_kinds_and_missing_files(
    runner: CliRunner, shop: Program, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["import", "stores", "x.csv", "--program", "shop"]).exit_code == 2
    missing = runner.invoke(
        app, ["import", "members", str(tmp_path / "no.csv"), "--program", "shop"]
    )
    assert missing.exit_code == 2
    assert runner.invoke(app, ["export", "stores", "--program", "shop"]).exit_code == 2


def test_rows_with_values_no_storage_keeps_are_rejected_not_fatal(
    runner: CliRunner, container: Container, shop: Program, tmp_path: Path
) -> None:
    """A NUL character used to stop the import at its row with a driver error on PostgreSQL
    (and was stored on SQLite), and again at every rerun."""
    path = write(
        tmp_path,
        "members.jsonl",
        '{"external_id": "C-1", "attributes": {"city": "Os\\u0000lo"}}\n'
        '{"external_id": "C-2", "first_name": "A\\u0000da"}\n'
        '{"external_id": "C-3", "first_name": "Ada"}\n',
    )
    result = runner.invoke(app, ["import", "members", str(path), "--program", "shop"])
    assert result.exit_code == 1, result.output
    assert "1 imported, 0 already there, 2 rejected" in result.stdout
    assert [(r["key"], r["reason"].split(": ")[0]) for r in rejected(path)] == [
        ("C-1", "attributes.city"),
        ("C-2", "first_name"),
    ]
    assert audit(container) == []
