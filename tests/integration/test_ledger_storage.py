"""The database defends the ledger too, and ``patron audit`` finds what broke it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from typer.testing import CliRunner

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.cli.main import app
from patron.domain.audit import CLI, AuditRecord
from patron.services import demo, ledger
from patron.services.demo_data import DAYS
from patron.services.ports import AuditFilter
from patron.services.transactions import run_read
from tests.ledger_support import audit, in_ledger, new_member, new_program


@pytest.fixture
def history(container: Container) -> str:
    """A member with an earn, a redemption and a clawback; returns the member id."""
    program = new_program(container, slug="books")
    member = new_member(container, program)
    in_ledger(container, program, lambda c: ledger.earn(c, member, wallet="points", amount=100))
    in_ledger(
        container,
        program,
        lambda c: ledger.adjust(c, member, wallet="points", amount=50, reason="x"),
    )
    in_ledger(container, program, lambda c: ledger.debit(c, member, wallet="points", amount=30))
    return member


@pytest.mark.parametrize(
    "statement",
    [
        t.ledger_entries.update().values(amount=999_999),
        t.ledger_entries.delete(),
        t.ledger_postings.update().values(amount=1),
        t.ledger_postings.delete(),
        t.lot_consumptions.update().values(amount=1),
    ],
)
def test_posted_rows_cannot_be_changed(
    container: Container, history: str, statement: sa.Executable
) -> None:
    with pytest.raises(sa_exc.DBAPIError), container.engine.begin() as conn:
        conn.execute(statement)
    assert audit(container) == []


def test_a_balance_cannot_go_negative_without_a_clawback(
    container: Container, history: str
) -> None:
    with pytest.raises(sa_exc.IntegrityError), container.engine.begin() as conn:
        conn.execute(
            t.balances.update().where(t.balances.c.member_id == history).values(available=-5)
        )


def test_posting_amounts_are_positive(container: Container, history: str) -> None:
    c = t.ledger_postings.c
    with container.engine.connect() as conn:
        row = conn.execute(sa.select(c.entry_id, c.program_id).limit(1)).one()
    with pytest.raises(sa_exc.IntegrityError), container.engine.begin() as conn:
        conn.execute(
            t.ledger_postings.insert().values(
                entry_id=row.entry_id,
                program_id=row.program_id,
                member_id=history,
                wallet="points",
                source="program:issued",
                destination="member:available",
                amount=-10,
            )
        )


@pytest.fixture
def runner(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PATRON_DATABASE_URL", db_url)
    return CliRunner()


def test_the_demo_tells_a_year_and_the_books_stay_clean(
    container: Container, runner: CliRunner
) -> None:
    made = demo.ensure_demo(container.uow, container.clock, CLI, members=60)
    story = made.story
    assert story is not None
    assert story.members == 60
    assert story.purchases > 100
    assert story.refunds > 0
    assert story.redemptions > 0
    with container.engine.connect() as conn:
        types = {
            row.type: row.n
            for row in conn.execute(
                sa.text("SELECT type, count(*) AS n FROM ledger_entries GROUP BY type")
            )
        }
        changes = conn.execute(sa.text("SELECT count(*) FROM tier_history")).scalar_one()
    # Points were earned, released by the jobs, redeemed, clawed back by refunds, and expired.
    assert {"earn", "redeem", "refund", "expire"} <= set(types)
    assert changes > 0
    result = runner.invoke(app, ["audit", "--program", "demo"])
    assert result.exit_code == 0, result.output
    assert "clean" in result.output
    again = demo.ensure_demo(container.uow, container.clock, CLI, members=60)
    assert again.created is False
    assert again.story is None

    def trail(action: str) -> list[AuditRecord]:
        return list(
            run_read(
                container.uow,
                lambda uow: uow.audit.find(
                    made.program.id, AuditFilter(action=action), before=None, limit=1000
                ),
            )
        )

    (told,) = trail("demo.created")  # once: the second call created nothing
    assert told.actor == CLI
    assert told.after is not None
    assert told.after["purchases"] == story.purchases
    runs = trail("jobs.ran")  # the simulated days' job runs, one record each at most
    assert 0 < len(runs) <= DAYS + 1
    assert {r.actor.kind for r in runs} == {"system"}


def test_audit_reports_a_tampered_balance_and_lot(
    container: Container, history: str, runner: CliRunner
) -> None:
    assert runner.invoke(app, ["audit"]).exit_code == 0
    with container.engine.begin() as conn:
        conn.execute(
            t.balances.update()
            .where(t.balances.c.member_id == history)
            .values(available=t.balances.c.available + 10)
        )
        conn.execute(
            t.ledger_lots.update()
            .where(t.ledger_lots.c.member_id == history, t.ledger_lots.c.amount == 50)
            .values(remaining=t.ledger_lots.c.remaining - 1)
        )
    result = runner.invoke(app, ["audit"])
    assert result.exit_code == 1
    assert {v.check for v in audit(container)} == {
        "balance_cache",
        "lots_match_balance",
        "lot_consumption",
    }
    assert "balance_cache" in result.output
