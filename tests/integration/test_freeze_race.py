"""A freeze and debits at the same moment: no debit commits after the freeze has committed.

A status change takes the balance-row locks every debit takes (``members.lock_member_balances``),
and a debit reads the member's status only once it holds its lock; so a debit either commits
before the freeze could lock, or waits for the freeze and then sees ``frozen``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.domain.errors import MemberFrozen
from patron.services import ledger, members, programs
from patron.services.ports import UnitOfWork
from patron.services.transactions import run_in_transaction
from tests.integration.test_ledger_races import at_once, entries_with
from tests.ledger_support import audit, balance, in_ledger, new_member, new_program

HELD, EACH = 1000, 10
DEBITS = 7


def freeze(container: Container, program_id: str, member: str, then: Any = None) -> Any:
    """Freeze ``member`` in one transaction; ``then(uow)`` runs inside it, after the change."""

    def action(uow: UnitOfWork) -> Any:
        program = programs.get_program(uow, program_id)
        members.update_member(uow, container.clock, CLI, program, member, {"status": "frozen"})
        return then() if then else None

    return run_in_transaction(container.uow, action)


def funded(container: Container) -> tuple[Any, str]:
    program = new_program(container, slug="race")
    member = new_member(container, program)
    in_ledger(
        container,
        program,
        lambda c: ledger.earn(c, member, wallet="points", amount=HELD, hold=False),
    )
    return program, member


def lock_waiters(container: Container) -> int:
    with container.engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


def test_a_debit_that_meets_an_uncommitted_freeze_waits_and_is_refused(
    container: Container,
) -> None:
    if not container.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one write transaction at a time: nothing can interleave")
    program, member = funded(container)
    written, committed = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def hold_the_freeze_open() -> None:
        written.set()
        # keep the freeze uncommitted until the debit is seen waiting on a lock (or long
        # enough that a debit which does not wait has certainly read the old status)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and lock_waiters(container) == 0:
            time.sleep(0.01)

    def freezer() -> None:
        freeze(container, program.id, member, then=hold_the_freeze_open)
        committed.set()

    def debit() -> None:
        assert written.wait(10)

        def action(c: ledger.Context) -> ledger.Posted:
            posted = ledger.debit(c, member, wallet="points", amount=EACH)
            committed.wait(10)  # were the debit not blocked, it would commit after the freeze
            return posted

        try:
            outcome["debit"] = in_ledger(container, program, action)
        except Exception as error:
            outcome["debit"] = error

    threads = [threading.Thread(target=freezer), threading.Thread(target=debit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert isinstance(outcome["debit"], MemberFrozen), outcome
    assert balance(container, program, member).available == HELD
    assert entries_with(container, member_id=member, type="redeem") == 0
    assert audit(container, program) == []


def test_debits_racing_a_freeze_all_commit_before_it(container: Container) -> None:
    program, member = funded(container)
    seen: list[int] = []

    def count_debits_under_the_freeze() -> None:
        # the freeze holds the member's balance locks: no debit can commit from here on
        seen.append(entries_with(container, member_id=member, type="redeem"))

    def work(i: int) -> Any:
        if i == 0:
            return freeze(container, program.id, member, then=count_debits_under_the_freeze)
        return in_ledger(
            container, program, lambda c: ledger.debit(c, member, wallet="points", amount=EACH)
        )

    # the pool holds 10 connections: the freeze, its count and the debits each need one
    results = at_once(DEBITS + 1, work)
    debits = results[1:]
    won = [r for r in debits if isinstance(r, ledger.Posted)]
    refused = [r for r in debits if isinstance(r, MemberFrozen)]
    assert len(won) + len(refused) == DEBITS, results
    assert entries_with(container, member_id=member, type="redeem") == seen[0] == len(won)
    assert balance(container, program, member).available == HELD - EACH * len(won)
    assert audit(container, program) == []
