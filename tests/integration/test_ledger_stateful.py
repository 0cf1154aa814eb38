"""The ledger against an in-memory model, step by step, on the real database.

Hypothesis draws sequences of earn, release, debit, cancel, clawback, expire, adjust, transfer,
freeze and time passing. After every step the balances and every accept/reject decision must
match a deliberately simple model (a list of lots per member), and ``audit`` must be clean.

Lots past their date are gone whether or not the expiry job ran: a movement that takes from a
member's lots (and the release job) first expires that member's lots past their date.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.domain.errors import (
    AlreadyCancelled,
    InsufficientBalance,
    MemberFrozen,
    PatronError,
)
from patron.domain.expiry import add_months
from patron.domain.ledger import Balance
from patron.services import ledger, members
from patron.services.ledger_jobs import expire_due, release_due
from patron.services.transactions import run_in_transaction, run_read
from tests.factories import MutableClock
from tests.ledger_support import audit, in_ledger, new_member, new_program

PENDING_DAYS = 3
CONFIG = {
    "wallets": {
        "points": {"pending_days": PENDING_DAYS, "expiry": {"mode": "after_earn", "months": 1}}
    }
}
_programs = itertools.count()


@dataclass
class ModelLot:
    seq: int
    entry: str
    remaining: int
    pending: bool
    earned_at: datetime
    available_at: datetime
    expires_at: datetime

    def order(self) -> tuple[datetime, datetime, int]:
        return (self.expires_at, self.earned_at, self.seq)


@dataclass
class ModelMember:
    lots: list[ModelLot] = field(default_factory=list)
    available: int = 0
    pending: int = 0
    frozen: bool = False


class LedgerModel:
    """The semantics of SPEC §3 and §5, written as plainly as possible."""

    def __init__(self) -> None:
        self.members: dict[str, ModelMember] = {}
        self.seq = itertools.count()
        self.debits: dict[str, list[tuple[int, datetime, datetime]]] = {}
        self.cancelled: set[str] = set()

    def _new_lot(self, m: ModelMember, entry: str, amount: int, **dates: Any) -> None:
        lot = ModelLot(next(self.seq), entry, amount, **dates)
        m.lots.append(lot)
        if lot.pending:
            m.pending += amount
        else:
            self._pay_deficit(m, [lot])
            m.available += amount

    @staticmethod
    def _pay_deficit(m: ModelMember, lots: list[ModelLot]) -> None:
        owed = max(0, -m.available)
        for lot in sorted(lots, key=ModelLot.order):
            paid = min(owed, lot.remaining)
            lot.remaining -= paid
            owed -= paid

    @staticmethod
    def _take(m: ModelMember, lots: list[ModelLot], amount: int) -> list[tuple[int, ModelLot]]:
        takes = []
        for lot in lots:
            if amount == 0:
                break
            taken = min(amount, lot.remaining)
            if taken:
                lot.remaining -= taken
                amount -= taken
                takes.append((taken, lot))
        return takes

    def earn(self, member: str, entry: str, amount: int, now: datetime) -> None:
        available_at = now + timedelta(days=PENDING_DAYS)
        self._new_lot(
            self.members[member],
            entry,
            amount,
            pending=True,
            earned_at=now,
            available_at=available_at,
            expires_at=add_months(now, 1),
        )

    def credit_now(self, member: str, entry: str, amount: int, now: datetime) -> None:
        self._new_lot(
            self.members[member],
            entry,
            amount,
            pending=False,
            earned_at=now,
            available_at=now,
            expires_at=add_months(now, 1),
        )

    def can_debit(self, member: str, amount: int, now: datetime) -> type[PatronError] | None:
        m = self.members[member]
        if m.frozen:
            return MemberFrozen
        gone = sum(lot.remaining for lot in m.lots if not lot.pending and lot.expires_at <= now)
        if m.available < 0 or amount > m.available - gone:
            return InsufficientBalance
        return None

    def lapse(self, m: ModelMember, now: datetime) -> None:
        """What has expired by ``now`` is written down before anything takes from the lots."""
        for lot in m.lots:
            if lot.expires_at <= now and lot.remaining:
                if lot.pending:
                    m.pending -= lot.remaining
                else:
                    m.available -= lot.remaining
                lot.remaining = 0

    def debit(
        self, member: str, entry: str, amount: int, now: datetime
    ) -> list[tuple[int, ModelLot]]:
        m = self.members[member]
        self.lapse(m, now)
        free = sorted((lot for lot in m.lots if not lot.pending), key=ModelLot.order)
        takes = self._take(m, free, amount)
        m.available -= amount
        self.debits[entry] = [(n, lot.earned_at, lot.expires_at) for n, lot in takes]
        return takes

    def cancel(self, member: str, debit_entry: str, entry: str, now: datetime) -> None:
        m = self.members[member]
        self.cancelled.add(debit_entry)
        restored = []
        for n, earned_at, expires_at in self.debits[debit_entry]:
            lot = ModelLot(next(self.seq), entry, n, False, earned_at, now, expires_at)
            m.lots.append(lot)
            restored.append(lot)
        self._pay_deficit(m, restored)
        m.available += sum(n for n, _, _ in self.debits[debit_entry])

    def clawback(self, member: str, earn_entry: str | None, amount: int, now: datetime) -> None:
        m = self.members[member]
        self.lapse(m, now)
        own = sorted((lot for lot in m.lots if lot.entry == earn_entry), key=ModelLot.order)
        others = sorted(
            (lot for lot in m.lots if not lot.pending and lot.entry != earn_entry),
            key=ModelLot.order,
        )
        takes = self._take(m, [*own, *others], amount)
        from_pending = sum(n for n, lot in takes if lot.pending)
        m.pending -= from_pending
        m.available -= amount - from_pending

    def release(self, now: datetime) -> None:
        for m in self.members.values():
            if any(lot.pending and lot.available_at <= now and lot.remaining for lot in m.lots):
                self.lapse(m, now)
            due = [
                lot for lot in m.lots if lot.pending and lot.available_at <= now and lot.remaining
            ]
            total = sum(lot.remaining for lot in due)
            for lot in due:
                lot.pending = False
            self._pay_deficit(m, due)
            m.pending -= total
            m.available += total

    def expire(self, now: datetime) -> None:
        for m in self.members.values():
            self.lapse(m, now)


def machine_for(container: Container, clock: MutableClock) -> type[RuleBasedStateMachine]:
    class LedgerMachine(RuleBasedStateMachine):
        members = Bundle("members")
        earns = Bundle("earns")
        debits = Bundle("debits")

        def __init__(self) -> None:
            super().__init__()
            self.model = LedgerModel()
            self.program = new_program(container, slug=f"ledger-{next(_programs)}", config=CONFIG)

        def run(self, action: Any) -> Any:
            return in_ledger(container, self.program, action)

        def expect(self, error: type[PatronError] | None, action: Any) -> Any:
            if error is None:
                return self.run(action)
            with pytest.raises(error):
                self.run(action)
            return None

        @initialize(target=members)
        def enrol(self) -> str:
            return self._enrol()

        def _enrol(self) -> str:
            member_id = new_member(container, self.program)
            self.model.members[member_id] = ModelMember()
            return member_id

        @rule(target=members)
        def enrol_another(self) -> str:
            return self._enrol()

        @rule(target=earns, member=members, amount=st.integers(1, 500), hold=st.booleans())
        def earn(self, member: str, amount: int, hold: bool) -> tuple[str, str]:
            posted = self.run(
                lambda c: ledger.earn(c, member, wallet="points", amount=amount, hold=hold)
            )
            if hold:
                self.model.earn(member, posted.entry.id, amount, clock.now())
            else:
                self.model.credit_now(member, posted.entry.id, amount, clock.now())
            return (member, posted.entry.id)

        @rule(target=earns, member=members, amount=st.integers(1, 500))
        def earn_available(self, member: str, amount: int) -> tuple[str, str]:
            return self.earn(member, amount, hold=False)

        @rule(target=debits, member=members, amount=st.integers(1, 300))
        def debit(self, member: str, amount: int) -> Any:
            error = self.model.can_debit(member, amount, clock.now())
            posted = self.expect(
                error, lambda c: ledger.debit(c, member, wallet="points", amount=amount)
            )
            if posted is None:
                return multiple()
            self.model.debit(member, posted.entry.id, amount, clock.now())
            return (member, posted.entry.id)

        @rule(debit=consumes(debits))
        def cancel(self, debit: tuple[str, str]) -> None:
            member, entry_id = debit
            posted = self.run(lambda c: ledger.cancel_debit(c, entry_id))
            self.model.cancel(member, entry_id, posted.entry.id, clock.now())
            with pytest.raises(AlreadyCancelled):
                self.run(lambda c: ledger.cancel_debit(c, entry_id))

        @rule(earned=earns, amount=st.integers(1, 400), own=st.booleans())
        def clawback(self, earned: tuple[str, str], amount: int, own: bool) -> None:
            member, earn_entry = earned
            source = earn_entry if own else None
            self.run(
                lambda c: ledger.clawback(
                    c, member, wallet="points", amount=amount, earned_by=source
                )
            )
            self.model.clawback(member, source, amount, clock.now())

        @rule(member=members, amount=st.integers(-600, 600).filter(bool))
        def adjust(self, member: str, amount: int) -> None:
            error = self.model.can_debit(member, -amount, clock.now()) if amount < 0 else None
            posted = self.expect(
                error,
                lambda c: ledger.adjust(c, member, wallet="points", amount=amount, reason="test"),
            )
            if posted is None:
                return
            if amount > 0:
                self.model.credit_now(member, posted.entry.id, amount, clock.now())
            else:
                self.model.debit(member, posted.entry.id, -amount, clock.now())

        @rule(sender=members, recipient=members, amount=st.integers(1, 400))
        def transfer(self, sender: str, recipient: str, amount: int) -> None:
            if sender == recipient:
                return
            error = self.model.can_debit(sender, amount, clock.now())
            posted = self.expect(
                error,
                lambda c: ledger.transfer(c, sender, recipient, wallet="points", amount=amount),
            )
            if posted is None:
                return
            takes = self.model.debit(sender, posted.entries[0].id, amount, clock.now())
            m = self.model.members[recipient]
            received = []
            for n, lot in takes:
                new = ModelLot(
                    next(self.model.seq),
                    posted.entries[1].id,
                    n,
                    False,
                    lot.earned_at,
                    clock.now(),
                    lot.expires_at,
                )
                m.lots.append(new)
                received.append(new)
            self.model._pay_deficit(m, received)
            m.available += amount

        @rule(member=members, frozen=st.booleans())
        def set_status(self, member: str, frozen: bool) -> None:
            status = "frozen" if frozen else "active"
            run_in_transaction(
                container.uow,
                lambda uow: members.update_member(
                    uow, clock, CLI, self.program, member, {"status": status}
                ),
            )
            self.model.members[member].frozen = frozen

        @rule(days=st.integers(0, 20))
        def time_passes(self, days: int) -> None:
            clock.advance(days=days, hours=1)

        @rule()
        def release(self) -> None:
            now = clock.now()
            while self.run(lambda c: release_due(c, now)):
                pass
            self.model.release(now)

        @rule()
        def expire(self) -> None:
            now = clock.now()
            while self.run(lambda c: expire_due(c, now)):
                pass
            self.model.expire(now)

        @invariant()
        def balances_match_the_model_and_the_books_balance(self) -> None:
            ids = list(self.model.members)
            found = run_read(container.uow, lambda uow: uow.ledger.balances(self.program.id, ids))
            points = {b.member_id: b for b in found if b.wallet == "points"}
            for member_id, expected in self.model.members.items():
                stored = points.get(member_id, Balance(member_id, "points"))
                assert (stored.available, stored.pending) == (expected.available, expected.pending)
            assert audit(container, self.program) == []

    return LedgerMachine


def test_the_ledger_matches_its_model(container: Container, clock: MutableClock) -> None:
    machine = machine_for(container, clock)
    # 20 runs of up to 40 steps (up to 800 checked steps a backend, drawn afresh every run),
    # each step followed by a full audit of the program's books: 30 took half as long again.
    machine.TestCase.settings = settings(
        max_examples=20,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    machine.TestCase().runTest()
