"""`patron jobs run`: every due job, idempotent for a given `now`."""

from __future__ import annotations

import copy
import time
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.cli.main import app
from patron.cli.worker import JobLoop
from patron.services import jobs, ledger
from tests.factories import MutableClock
from tests.ledger_support import audit, balance, in_ledger, new_member, new_program
from tests.support_example import EXAMPLE_CONFIG


@pytest.fixture
def program(container: Container) -> object:
    config = copy.deepcopy(EXAMPLE_CONFIG)
    config["wallets"]["points"]["pending_days"] = 14
    return new_program(container, slug="club", config=config)


def test_a_second_run_with_the_same_now_changes_nothing(
    container: Container, program: object, clock: MutableClock
) -> None:
    member = new_member(container, program, birth_date=date(1990, 3, 21))
    in_ledger(container, program, lambda c: ledger.earn(c, member, wallet="points", amount=80))
    later = datetime(2026, 3, 21, 12, 0, tzinfo=UTC)  # pending window over, and her birthday
    clock.at = later
    first = jobs.run_due(container.uow, later, sender=container.webhooks)
    assert first.done["club"]["release"] == 1
    assert first.done["club"]["birthdays"] == 1
    assert first.done["club"]["outbox"] >= 2  # points.released, points.earned, ...
    after = balance(container, program, member)
    assert (after.available, after.pending) == (80 + 250, 0)
    second = jobs.run_due(container.uow, later, sender=container.webhooks)
    assert second.done["club"] == {
        "reminders": 0,
        "tiers": 0,
        "vouchers": 0,
        "birthdays": 0,
        "rollups": 0,  # the past days were rolled up by the first run
        "outbox": 0,
        "webhooks": 0,
    }
    assert balance(container, program, member) == after
    assert audit(container) == []


@pytest.mark.parametrize(
    ("today", "celebrated"),
    [
        (datetime(2027, 2, 28, 12, tzinfo=UTC), True),  # common year: on the 28th
        (datetime(2028, 2, 28, 12, tzinfo=UTC), False),  # leap year: wait for the 29th
        (datetime(2028, 2, 29, 12, tzinfo=UTC), True),
    ],
)
def test_leap_day_birthdays(
    container: Container, program: object, clock: MutableClock, today: datetime, celebrated: bool
) -> None:
    member = new_member(container, program, birth_date=date(2000, 2, 29))
    clock.at = today
    report = jobs.run_due(container.uow, today, program="club")
    assert report.done["club"]["birthdays"] == (1 if celebrated else 0)
    assert balance(container, program, member).available == (250 if celebrated else 0)


def test_the_cli_runs_jobs_as_of_a_given_time(
    db_url: str, monkeypatch: pytest.MonkeyPatch, container: Container, program: object
) -> None:
    monkeypatch.setenv("PATRON_DATABASE_URL", db_url)
    runner = CliRunner()
    result = runner.invoke(app, ["jobs", "run", "--now", "2026-03-21T12:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "club:" in result.output
    bad = runner.invoke(app, ["jobs", "run", "--now", "yesterday"])
    assert bad.exit_code == 2
    naive = runner.invoke(app, ["jobs", "run", "--now", "2026-03-21T12:00:00"])
    assert naive.exit_code == 2
    unknown = runner.invoke(app, ["jobs", "run", "--program", "nope"])
    assert unknown.exit_code == 4


def test_the_job_loop_runs_due_jobs_in_the_background(
    container: Container, program: object, clock: MutableClock
) -> None:
    member = new_member(container, program)
    in_ledger(container, program, lambda c: ledger.earn(c, member, wallet="points", amount=80))
    clock.advance(days=15)
    loop = JobLoop(container, interval=0.05)
    loop.start()
    try:
        for _ in range(100):
            if balance(container, program, member).available == 80:
                break
            time.sleep(0.05)
    finally:
        loop.stop()
    assert balance(container, program, member).available == 80


def test_expiry_reminders_are_sent_once_per_reminder_day(container: Container) -> None:
    config = {
        "wallets": {
            "points": {
                "expiry": {"mode": "after_earn", "months": 1, "round": "end_of_month"},
                "reminder_days": [7, 1],
            }
        }
    }
    program = new_program(container, slug="remind", config=config)
    member = new_member(container, program)
    in_ledger(container, program, lambda c: ledger.earn(c, member, wallet="points", amount=40))
    # earned 7 March (Paris): expires 1 May 00:00 Paris; reminders on 24 and 30 April
    for day, expected in ((23, 0), (24, 1), (24, 0), (30, 1)):
        now = datetime(2026, 4, day, 12, 0, tzinfo=UTC)
        assert jobs.run_due(container.uow, now).done["remind"]["reminders"] == expected, day
    with container.engine.connect() as conn:
        facts = conn.execute(
            sa.select(t.outbox.c.payload).where(t.outbox.c.type == "points.expiring")
        ).all()
    assert sorted(f.payload["days_before"] for f in facts) == [1, 7]
    assert {f.payload["amount"] for f in facts} == {40}
