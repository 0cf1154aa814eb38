"""A lot past its expiry date is gone the moment it expires, whether or not the expiry job has
run (docs/ledger.md, "Expiry"): every movement, and the release job, ends exactly as it would
have had the job run first. Each scenario runs in two programs with the same history: in one
the movement comes before the expiry job, in the other after it; balances, entries and the
refusals must be the same, and the books balanced.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.domain.errors import PatronError
from patron.domain.programs import Program
from patron.services import ledger
from patron.services.ledger import Context
from patron.services.ledger_jobs import expire_due, release_due
from patron.services.transactions import run_read
from tests.factories import MutableClock
from tests.ledger_support import audit, balance, in_ledger, new_member, new_program

START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
MONTHLY = {"wallets": {"points": {"expiry": {"mode": "after_earn", "months": 1}}}}
_programs = itertools.count()


class Story:
    """Ada earns 40 (lot A, expiring 5 February) and, 20 days later, 50 (lot B, expiring
    25 February); Grace holds nothing. It is now 10 February: A has expired, B has not."""

    def __init__(self, container: Container, clock: MutableClock) -> None:
        clock.at = START
        self.program = new_program(container, slug=f"lapse{next(_programs)}", config=MONTHLY)
        self.ada = new_member(container, self.program)
        self.grace = new_member(container, self.program)
        self.first = self.run(container, lambda c: self._earn(c, 40)).entry.id
        clock.advance(days=20)
        self.run(container, lambda c: self._earn(c, 50))
        clock.at = START + timedelta(days=36)

    def _earn(self, ctx: Context, amount: int) -> ledger.Posted:
        return ledger.earn(ctx, self.ada, wallet="points", amount=amount, hold=False)

    def run(self, container: Container, action: Callable[[Context], Any]) -> Any:
        return in_ledger(container, self.program, action)

    def outcome(self, container: Container) -> dict[str, Any]:
        e = t.ledger_entries.c

        def entries(uow: Any) -> list[tuple[str, str, int]]:
            rows = uow.connection.execute(
                sa.select(e.member_id, e.type, e.amount).where(e.program_id == self.program.id)
            )
            names = {self.ada: "ada", self.grace: "grace"}
            return sorted((names[r.member_id], r.type, r.amount) for r in rows)

        return {
            "ada": _shown(balance(container, self.program, self.ada)),
            "grace": _shown(balance(container, self.program, self.grace)),
            "entries": run_read(container.uow, entries),
        }


def _shown(b: Any) -> tuple[int, int]:
    return (b.available, b.pending)


Movement = Callable[[Context, Story], Any]

MOVEMENTS: dict[str, Movement] = {
    "redeem": lambda c, s: ledger.debit(c, s.ada, wallet="points", amount=30),
    "redeem-beyond-what-is-left": lambda c, s: ledger.debit(c, s.ada, wallet="points", amount=60),
    "negative-adjustment": lambda c, s: ledger.adjust(
        c, s.ada, wallet="points", amount=-30, reason="r"
    ),
    "transfer": lambda c, s: ledger.transfer(c, s.ada, s.grace, wallet="points", amount=30),
    "transfer-beyond-what-is-left": lambda c, s: ledger.transfer(
        c, s.ada, s.grace, wallet="points", amount=51
    ),
    "refund-of-the-expired-purchase": lambda c, s: ledger.clawback(
        c, s.ada, wallet="points", amount=30, earned_by=s.first
    ),
    "erasure": lambda c, s: ledger.close(c, s.ada),
}


def _attempt(story: Story, container: Container, movement: Movement) -> str | None:
    try:
        story.run(container, lambda c: movement(c, story))
    except PatronError as refused:
        return refused.code
    return None


@pytest.mark.parametrize("name", list(MOVEMENTS))
def test_a_movement_ends_as_if_the_expiry_job_had_run_first(
    container: Container, clock: MutableClock, name: str
) -> None:
    movement = MOVEMENTS[name]
    early = Story(container, clock)
    while early.run(container, lambda c: expire_due(c, c.clock.now())):
        pass
    refused_early = _attempt(early, container, movement)
    late = Story(container, clock)  # the job has not run: lot A is past its date, still open
    refused_late = _attempt(late, container, movement)
    # The movement wrote down the expiry; a refused one changed nothing, so the job does it.
    written = late.run(container, lambda c: expire_due(c, c.clock.now()))
    assert written == (1 if refused_late else 0)
    assert refused_late == refused_early
    assert late.outcome(container) == early.outcome(container)
    assert audit(container) == []


def test_what_expired_while_pending_is_not_released_to_pay_a_deficit(
    container: Container, clock: MutableClock
) -> None:
    """Points still in the return window when they expire never become available: the release
    job expires them instead, so they cannot pay a refund's deficit."""
    config = {
        "wallets": {"points": {"pending_days": 45, "expiry": {"mode": "after_earn", "months": 1}}}
    }

    def story(order: tuple[str, ...]) -> tuple[Program, str]:
        clock.at = START
        program = new_program(container, slug=f"held{next(_programs)}", config=config)
        member = new_member(container, program)
        in_ledger(container, program, lambda c: ledger.earn(c, member, wallet="points", amount=100))
        clock.advance(days=20)
        in_ledger(
            container,
            program,
            lambda c: ledger.earn(c, member, wallet="points", amount=10, hold=False),
        )
        in_ledger(
            container, program, lambda c: ledger.clawback(c, member, wallet="points", amount=30)
        )
        assert _shown(balance(container, program, member)) == (-20, 100)
        clock.at = START + timedelta(days=46)  # expired (5 Feb), then due for release (19 Feb)
        jobs = {"release": release_due, "expire": expire_due}
        for job in order:
            while in_ledger(container, program, lambda c, j=jobs[job]: j(c, c.clock.now())):
                pass
        return program, member

    for order in (("release", "expire"), ("expire", "release")):
        program, member = story(order)
        assert _shown(balance(container, program, member)) == (-20, 0), order
    assert audit(container) == []
