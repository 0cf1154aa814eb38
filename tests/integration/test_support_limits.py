"""A support user's adjustment limits (services.staff.charge_adjustment), in the adjustment's own
transaction: per adjustment, per program day, and under concurrency (the day's row is locked,
so simultaneous adjustments cannot both slip under the daily limit)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.domain.programs import Program
from patron.services import ledger, staff
from patron.services.ledger import Context
from patron.services.staff import LimitExceeded
from patron.services.transactions import run_in_transaction
from tests.integration.test_ledger_races import at_once
from tests.ledger_support import audit, balance, new_member, new_program


def support(container: Container, program: Program, **limits: Any) -> Any:
    made = run_in_transaction(
        container.uow,
        lambda uow: staff.create(
            uow,
            container.clock,
            CLI,
            email="agent@example.com",
            role="support",
            program=program,
            **limits,
        ),
    )
    grants = run_in_transaction(container.uow, lambda uow: uow.staff.grants_of(made.user.id))
    return grants[0]


def adjust(container: Container, program: Program, grant: Any, member: str, amount: int) -> Any:
    def action(uow: Any) -> Any:
        ctx = Context(uow, container.clock, CLI, program)
        staff.charge_adjustment(uow, program, grant, amount, container.clock.now())
        return ledger.adjust(ctx, member, wallet="points", amount=amount, reason="goodwill")

    return run_in_transaction(container.uow.scoped(program.id), action)


def test_per_adjustment_and_daily_limits(container: Container) -> None:
    program = new_program(container, slug="limits")
    member = new_member(container, program)
    grant = support(container, program, support_limit=100, support_daily_limit=150)
    assert grant.support_limit == 100
    assert grant.support_daily_limit == 150
    with pytest.raises(LimitExceeded, match="limit of 100 points per adjustment"):
        adjust(container, program, grant, member, 101)
    adjust(container, program, grant, member, 100)
    adjust(container, program, grant, member, -40)  # debits count too
    with pytest.raises(LimitExceeded, match="daily limit of 150"):
        adjust(container, program, grant, member, 20)
    assert balance(container, program, member).available == 60  # the refused ones changed nothing
    assert audit(container, program) == []


def test_the_day_is_the_programs_day(container: Container, clock: Any) -> None:
    program = new_program(container, slug="days")
    member = new_member(container, program)
    grant = support(container, program, support_limit=100, support_daily_limit=100)
    clock.at = datetime(2026, 3, 5, 22, 0, tzinfo=UTC)
    adjust(container, program, grant, member, 100)
    clock.advance(hours=26)  # the next day anywhere
    adjust(container, program, grant, member, 100)
    assert balance(container, program, member).available == 200


def test_other_roles_have_no_limit(container: Container) -> None:
    program = new_program(container, slug="managers")
    member = new_member(container, program)
    made = run_in_transaction(
        container.uow,
        lambda uow: staff.create(
            uow, container.clock, CLI, email="boss@example.com", role="manager", program=program
        ),
    )
    grant = run_in_transaction(container.uow, lambda uow: uow.staff.grants_of(made.user.id))[0]
    adjust(container, program, grant, member, 100_000)
    assert balance(container, program, member).available == 100_000


def test_simultaneous_adjustments_hold_the_daily_limit(container: Container) -> None:
    program = new_program(container, slug="race")
    member = new_member(container, program)
    grant = support(container, program, support_limit=100, support_daily_limit=300)
    outcomes = at_once(8, lambda i: adjust(container, program, grant, member, 100))
    refused = [o for o in outcomes if isinstance(o, LimitExceeded)]
    assert len(refused) == 5, outcomes
    assert balance(container, program, member).available == 300
    assert audit(container, program) == []


def test_nothing_is_counted_when_the_adjustment_fails(container: Container) -> None:
    program = new_program(container, slug="fails")
    member = new_member(container, program)
    grant = support(container, program, support_limit=100, support_daily_limit=100)
    with pytest.raises(Exception):  # noqa: B017, PT011 - the debit overdraws: any refusal
        adjust(container, program, grant, member, -50)
    adjust(container, program, grant, member, 100)  # the failed debit used none of the day
    assert balance(container, program, member).available == 100
