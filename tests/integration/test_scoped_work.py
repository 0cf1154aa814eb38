"""Work that no API request starts (the job loop, ``patron jobs run``, import, export) runs in
its program's scope too: on PostgreSQL a statement that forgot its ``program_id`` filter still
sees and changes only its own program's rows (ADR 0005).

Each test removes a program filter from one query the work relies on, and shows the work still
touches only its program. Without the scope, each of them reaches into the other program.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from patron.adapters.db import exports
from patron.adapters.db import tables as t
from patron.adapters.db.repositories import SqlMemberRepository
from patron.bootstrap import Container
from patron.cli import transfer
from patron.cli.main import app
from patron.cli.worker import JobLoop
from patron.domain.members import Member
from patron.domain.programs import Program
from tests.conftest import PG_URL, _truncate
from tests.factories import MutableClock
from tests.ledger_support import audit, balance, new_member, new_program
from tests.support_example import EXAMPLE_CONFIG

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not PG_URL, reason="PATRON_TEST_POSTGRES_URL not set"),
]


@pytest.fixture
def db_url(postgres_database: str) -> str:
    """PostgreSQL only: SQLite has no row-level security, the filters are its only wall."""
    _truncate(postgres_database)
    return postgres_database


@pytest.fixture
def programs(container: Container) -> tuple[Program, Program]:
    return (
        new_program(container, slug="alpha", config=EXAMPLE_CONFIG),
        new_program(container, slug="beta", config=EXAMPLE_CONFIG),
    )


def born_on_anywhere(
    self: SqlMemberRepository,
    program_id: str,
    days: Sequence[tuple[int, int]],
    *,
    after: str | None,
    limit: int,
) -> list[Member]:
    """``born_on`` with its program filter removed."""
    c = t.members.c
    month, day = sa.extract("month", c.birth_date), sa.extract("day", c.birth_date)
    conditions = [sa.or_(*(sa.and_(month == m, day == d) for m, d in days))]
    if after is not None:
        conditions.append(c.id > after)
    return self._select(sa.and_(*conditions), limit=limit)


def test_the_job_loop_touches_only_each_program_s_rows(
    container: Container,
    programs: tuple[Program, Program],
    clock: MutableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alpha, beta = programs
    members = {p.slug: new_member(container, p, birth_date=date(1990, 3, 21)) for p in programs}
    monkeypatch.setattr(SqlMemberRepository, "born_on", born_on_anywhere)
    clock.at = datetime(2026, 3, 21, 12, 0, tzinfo=UTC)  # both birthdays

    report = JobLoop(container, interval=60).tick()

    assert report is not None  # the run did not fail
    assert report.done["alpha"]["birthdays"] == 1
    assert report.done["beta"]["birthdays"] == 1
    # The birthday's 250 points: once each, in the member's own program.
    assert balance(container, alpha, members["alpha"]).available == 250
    assert balance(container, beta, members["beta"]).available == 250
    with container.engine.connect() as conn:
        strays = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.balances.join(t.members, t.members.c.id == t.balances.c.member_id))
            .where(t.balances.c.program_id != t.members.c.program_id)
        ).scalar_one()
    assert strays == 0
    assert audit(container) == []


def test_the_cli_s_jobs_run_touches_only_the_program_it_runs(
    db_url: str,
    container: Container,
    programs: tuple[Program, Program],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alpha, beta = programs
    members = {p.slug: new_member(container, p, birth_date=date(1990, 3, 21)) for p in programs}
    monkeypatch.setattr(SqlMemberRepository, "born_on", born_on_anywhere)
    monkeypatch.setenv("PATRON_DATABASE_URL", db_url)

    result = CliRunner().invoke(
        app, ["jobs", "run", "--program", "alpha", "--now", "2026-03-21T12:00:00Z"]
    )

    assert result.exit_code == 0, result.output
    assert "birthdays 1" in result.output
    assert balance(container, alpha, members["alpha"]).available == 250
    assert balance(container, beta, members["beta"]).available == 0  # not yet her turn
    assert audit(container) == []


def among_anywhere(
    self: SqlMemberRepository, program_id: str, column: sa.Column[Any], values: Sequence[str]
) -> list[Member]:
    """The lookup of members by external id or id, with its program filter removed."""
    if not values:
        return []
    return self._select(column.in_(list(values)), limit=len(values))


def find_anywhere(
    self: SqlMemberRepository, program_id: str, where: Any, *, after: str | None, limit: int
) -> list[Member]:
    return among_anywhere(self, program_id, t.members.c.external_id, [where.external_id])


def test_an_import_sees_only_its_program(
    container: Container, programs: tuple[Program, Program], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked whether C-1 is there already, an unscoped import found alpha's C-1 and skipped
    beta's."""
    alpha, beta = programs
    new_member(container, alpha, external_id="C-1")
    monkeypatch.setattr(SqlMemberRepository, "_among", among_anywhere)
    monkeypatch.setattr(SqlMemberRepository, "find", find_anywhere)
    lines = ['{"external_id": "C-1", "email": "c1@example.com"}\n']

    for batched in (True, False):
        outcome = transfer.run_import(
            container.uow, container.clock, "beta", "members", "jsonl", lines, batched=batched
        )
        assert (outcome.imported, outcome.existing, outcome.rejected) == (
            (1, 0, 0) if batched else (0, 1, 0)
        )
    with container.engine.connect() as conn:
        owners = conn.execute(
            sa.select(t.members.c.program_id).where(t.members.c.external_id == "C-1")
        ).scalars()
        assert sorted(owners) == sorted([alpha.id, beta.id])
    assert audit(container) == []


def test_an_export_sees_only_its_program(
    db_url: str,
    container: Container,
    programs: tuple[Program, Program],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    alpha, beta = programs
    new_member(container, alpha, external_id="A-1")
    new_member(container, beta, external_id="B-1")

    def every_member(conn: sa.Connection, program_id: str) -> Any:
        for row in conn.execute(sa.select(t.members.c.external_id)):
            yield {"external_id": row.external_id}

    monkeypatch.setattr(exports, "members", every_member)
    monkeypatch.setenv("PATRON_DATABASE_URL", db_url)
    out = tmp_path / "beta.jsonl"

    result = CliRunner().invoke(app, ["export", "members", "--program", "beta", "-o", str(out)])

    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in out.read_text().splitlines()] == [{"external_id": "B-1"}]
