"""Release and expiry jobs: due work only, once, for any ``now``; expiry dates survive moves."""

from __future__ import annotations

from datetime import UTC, datetime

from patron.bootstrap import Container
from patron.services import ledger
from patron.services.ledger_jobs import expire_due, release_due
from patron.services.transactions import run_read
from tests.factories import MutableClock
from tests.ledger_support import audit, balance, in_ledger, new_member, new_program

DATED = {
    "wallets": {
        "points": {
            "pending_days": 14,
            "expiry": {"mode": "after_earn", "months": 1, "round": "end_of_month"},
        }
    }
}


def open_lot_dates(container: Container, member: str) -> list[datetime | None]:
    lots = run_read(container.uow, lambda uow: uow.ledger.open_lots(member, "points"))
    return sorted(lot.expires_at for lot in lots if lot.expires_at)


def test_pending_points_are_released_once_when_the_window_passes(
    container: Container, clock: MutableClock
) -> None:
    program = new_program(container, slug="jobs", config=DATED)
    member = new_member(container, program)
    in_ledger(container, program, lambda c: ledger.earn(c, member, wallet="points", amount=80))
    clock.advance(days=13)
    assert in_ledger(container, program, lambda c: release_due(c, clock.now())) == 0
    clock.advance(days=1)
    assert in_ledger(container, program, lambda c: release_due(c, clock.now())) == 1
    assert in_ledger(container, program, lambda c: release_due(c, clock.now())) == 0
    after = balance(container, program, member)
    assert (after.available, after.pending) == (80, 0)
    assert audit(container, program) == []


def test_lots_expire_at_the_end_of_the_month_once(
    container: Container, clock: MutableClock
) -> None:
    program = new_program(container, slug="jobs", config=DATED)
    member = new_member(container, program)
    in_ledger(
        container, program, lambda c: ledger.earn(c, member, wallet="points", amount=60, hold=False)
    )
    # earned 7 March 2026 (Paris): 1 month later, to the end of April → 1 May 00:00 Paris
    deadline = datetime(2026, 4, 30, 22, 0, tzinfo=UTC)
    assert open_lot_dates(container, member) == [deadline]
    assert (
        in_ledger(
            container, program, lambda c: expire_due(c, datetime(2026, 4, 30, 21, 59, tzinfo=UTC))
        )
        == 0
    )
    assert in_ledger(container, program, lambda c: expire_due(c, deadline)) == 1
    assert in_ledger(container, program, lambda c: expire_due(c, deadline)) == 0
    assert balance(container, program, member).available == 0
    assert audit(container, program) == []


def test_inactivity_expires_the_whole_wallet(container: Container, clock: MutableClock) -> None:
    config = {"wallets": {"points": {"expiry": {"mode": "inactivity", "months": 6}}}}
    program = new_program(container, slug="idle", config=config)
    idle, busy = new_member(container, program), new_member(container, program)
    for member in (idle, busy):
        in_ledger(
            container, program, lambda c, m=member: ledger.earn(c, m, wallet="points", amount=40)
        )
    clock.advance(days=120)
    in_ledger(container, program, lambda c: ledger.debit(c, busy, wallet="points", amount=1))
    clock.advance(days=70)  # idle: 190 days without activity; busy: 70
    assert in_ledger(container, program, lambda c: expire_due(c, clock.now())) == 1
    assert balance(container, program, idle).available == 0
    assert balance(container, program, busy).available == 39
    assert audit(container, program) == []


def test_cancelled_and_transferred_points_keep_their_expiry(
    container: Container, clock: MutableClock
) -> None:
    program = new_program(container, slug="keep", config=DATED)
    ada, grace = new_member(container, program), new_member(container, program)
    in_ledger(
        container, program, lambda c: ledger.earn(c, ada, wallet="points", amount=50, hold=False)
    )
    dates = open_lot_dates(container, ada)
    clock.advance(days=10)
    redeemed = in_ledger(
        container, program, lambda c: ledger.debit(c, ada, wallet="points", amount=50)
    )
    clock.advance(days=10)
    in_ledger(container, program, lambda c: ledger.cancel_debit(c, redeemed.entry.id))
    assert open_lot_dates(container, ada) == dates
    in_ledger(
        container, program, lambda c: ledger.transfer(c, ada, grace, wallet="points", amount=20)
    )
    assert open_lot_dates(container, grace) == dates
    assert audit(container, program) == []
