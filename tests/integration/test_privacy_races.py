"""Erasure under contention: simultaneous erasures erase once; earns racing an erasure either
land before it (and are closed by it) or are refused, never left behind."""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.domain.errors import MemberInactive
from patron.services import ledger, privacy
from patron.services.ledger import Context
from patron.services.programs import get_program
from patron.services.transactions import run_in_transaction
from tests.integration.test_ledger_races import at_once, entries_with
from tests.ledger_support import audit, balance, in_ledger, new_member, new_program


def _erase(container: Container, program_id: str, member: str) -> privacy.Erasure:
    return run_in_transaction(
        container.uow,
        lambda uow: privacy.erase(
            Context(uow, container.clock, CLI, get_program(uow, program_id)), member
        ),
    )


def test_simultaneous_erasures_and_earns_leave_one_erasure_and_nothing_behind(
    container: Container,
) -> None:
    program = new_program(container, slug="race")
    member = new_member(container, program, email="racer@example.org", first_name="Rhea")
    in_ledger(container, program, lambda ctx: ledger.earn(ctx, member, wallet="points", amount=70))

    def work(i: int) -> object:
        if i % 2 == 0:
            return _erase(container, program.id, member)
        return in_ledger(
            container, program, lambda ctx: ledger.earn(ctx, member, wallet="points", amount=5)
        )

    outcomes = at_once(8, work)
    erasures = [o for o in outcomes if isinstance(o, privacy.Erasure)]
    assert len(erasures) == 4
    assert [e.already for e in erasures].count(False) == 1
    earned = [o for o in outcomes if isinstance(o, ledger.Posted)]
    refused = [o for o in outcomes if isinstance(o, MemberInactive)]
    assert len(earned) + len(refused) == 4, outcomes
    assert balance(container, program, member).available == 0
    assert entries_with(container, member_id=member, type="erase") == 1
    with container.engine.connect() as conn:
        logged = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.audit_log)
            .where(t.audit_log.c.action == "member.erased")
        ).scalar_one()
        tombstones = conn.execute(sa.select(sa.func.count()).select_from(t.erasures)).scalar_one()
    assert (logged, tombstones) == (1, 1)
    assert audit(container) == []
