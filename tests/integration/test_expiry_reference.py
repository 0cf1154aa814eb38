"""The set-based expiry job against its reference, the expiry planned lot by lot in Python.

Hypothesis draws a ledger history through the real use cases (earns, held or not and dated in
the past, redemptions, refund clawbacks that leave deficits and partial lots, releases, earlier
expiry runs, time passing) in three wallets: dated expiry with a short and with a long return
window (so pending lots expire too), and inactivity expiry. Then, on the same database and for
the same ``now``, ``expire_due_planned`` and ``expire_due`` each run to the end in a transaction
that is rolled back, and everything they wrote must be the same: entries with their postings and
consumptions, lots, balances with their versions, outbox facts, the counts the job reported, and
a clean audit. Generated ids differ between the two runs, so entries are compared by their
member and wallet (one expire entry per wallet and run) and in the order their ids sort.

The job only writes down what is already true: the balances every member is shown at ``now``
(``wallet_views``: available, pending, what expires next) are the same before the job runs as
after it.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.domain.audit import SYSTEM
from patron.domain.errors import PatronError
from patron.domain.programs import Program
from patron.services import ledger
from patron.services.balances import wallet_views
from patron.services.ledger import Context, StoppedClock
from patron.services.ledger_jobs import expire_due, expire_due_planned, release_due
from patron.services.programs import get_program
from tests.factories import MutableClock
from tests.integration.test_ledger_races import at_once
from tests.ledger_support import audit, in_ledger, new_member, new_program

START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
WALLETS = ("points", "bonus", "miles")
CONFIG = {
    "wallets": {
        "points": {"pending_days": 10, "expiry": {"mode": "after_earn", "months": 1}},
        "bonus": {
            "pending_days": 45,  # longer than the expiry: these lots expire while pending
            "expiry": {"mode": "after_earn", "months": 1, "round": "end_of_month"},
        },
        "miles": {"pending_days": 3, "expiry": {"mode": "inactivity", "months": 2}},
    }
}
_programs = itertools.count()

Job = Callable[..., int]

members_ = st.integers(0, 2)
wallets_ = st.sampled_from(WALLETS)
earn = st.tuples(
    st.just("earn"), members_, wallets_, st.integers(1, 60), st.booleans(), st.integers(0, 70)
)
steps = st.lists(
    st.one_of(
        earn,
        earn,  # twice as likely: most histories should leave something to expire
        st.tuples(st.just("redeem"), members_, wallets_, st.integers(1, 80)),
        st.tuples(st.just("refund"), members_, wallets_, st.integers(1, 80), st.booleans()),
        st.tuples(st.just("release")),
        st.tuples(st.just("expire")),
        st.tuples(st.just("wait"), st.integers(0, 40)),
    ),
    min_size=3,
    max_size=30,
)
later_ = st.one_of(st.sampled_from([40, 75, 120]), st.integers(0, 120))

# Every case at least once, whatever Hypothesis draws: a pending lot expiring next to an
# available one, a partly redeemed lot, pending lots expiring from a wallet whose available
# balance is negative after a clawback (dated and by inactivity), several wallets due at once.
CASES = [
    ("earn", 0, "bonus", 30, True, 0),
    ("earn", 0, "bonus", 20, False, 0),
    ("redeem", 0, "bonus", 5),
    ("earn", 1, "points", 10, False, 0),
    ("refund", 1, "points", 25, True),
    ("earn", 1, "points", 12, True, 0),
    ("earn", 2, "miles", 40, True, 0),
    ("refund", 2, "miles", 50, True),
    ("earn", 2, "miles", 5, True, 0),
    ("earn", 2, "points", 7, False, 20),
    ("wait", 3),
    ("earn", 0, "miles", 9, False, 0),
]


def _history(
    container: Container, clock: MutableClock, program: Program, members: list[str], plan: Any
) -> None:
    earned: dict[tuple[str, str], str] = {}  # the last earn entry of each wallet
    for step in plan:
        if step[0] == "wait":
            clock.advance(days=step[1], hours=7)
            continue
        act = functools.partial(_act, step=step, members=members, earned=earned)
        while in_ledger(container, program, act):
            pass  # a job runs batch after batch; a use case once


def _act(ctx: Context, *, step: Any, members: list[str], earned: dict[tuple[str, str], str]) -> int:
    kind, now = step[0], ctx.clock.now()
    if kind == "release":
        return release_due(ctx, now)
    if kind == "expire":
        return expire_due(ctx, now)
    member, wallet, amount = members[step[1]], step[2], step[3]
    if kind == "earn":
        moment = now - timedelta(days=step[5])
        posted = ledger.earn(
            ctx, member, wallet=wallet, amount=amount, hold=step[4], occurred_at=moment
        )
        earned[(member, wallet)] = posted.entry.id
    elif kind == "redeem":
        with contextlib.suppress(PatronError):  # more than the balance: refused
            ledger.debit(ctx, member, wallet=wallet, amount=amount)
    else:
        own = earned.get((member, wallet)) if step[4] else None
        ledger.clawback(ctx, member, wallet=wallet, amount=amount, earned_by=own)
    return 0


def _outcome(
    container: Container, program: Program, job: Job, now: datetime, limit: int
) -> dict[str, Any]:
    """What ``job`` writes when run to the end for ``now`` in batches of ``limit``, in one
    transaction that is rolled back; plus the counts it reported and a rerun's count."""
    with container.uow(write=True) as uow:
        conn = uow.connection
        before_entries = set(conn.execute(sa.select(t.ledger_entries.c.id)).scalars())
        before_events = set(conn.execute(sa.select(t.outbox.c.id)).scalars())
        ctx = Context(uow, StoppedClock(now), SYSTEM, get_program(uow, program.id))
        members = list(
            conn.execute(
                sa.select(t.members.c.id).where(t.members.c.program_id == program.id)
            ).scalars()
        )
        shown_before = wallet_views(uow, ctx.program, members, now=now)
        counts = []
        while done := job(ctx, now, limit=limit):
            counts.append(done)
        rerun = job(ctx, now, limit=limit)
        shown_after = wallet_views(uow, ctx.program, members, now=now)
        violations = uow.ledger.verify(program.id)
        entries = [
            row
            for row in conn.execute(sa.select(t.ledger_entries).order_by(t.ledger_entries.c.id))
            if row.id not in before_entries
        ]
        label = {row.id: (row.member_id, row.wallet) for row in entries}
        postings = [
            (label[row.entry_id], row.source, row.destination, row.amount)
            for row in conn.execute(sa.select(t.ledger_postings).order_by(t.ledger_postings.c.id))
            if row.entry_id in label
        ]
        consumptions = sorted(
            (label[row.entry_id], row.lot_id, row.amount)
            for row in conn.execute(sa.select(t.lot_consumptions))
            if row.entry_id in label
        )
        events = sorted(
            (
                row.type,
                row.subject,
                sorted({**row.payload, "entry_id": label[row.payload["entry_id"]]}.items()),
                row.occurred_at,
                row.published_at,
            )
            for row in conn.execute(sa.select(t.outbox))
            if row.id not in before_events
        )
        lots = sorted(
            (row.id, row.remaining, row.pending)
            for row in conn.execute(
                sa.select(t.ledger_lots).where(t.ledger_lots.c.program_id == program.id)
            )
        )
        balances = sorted(
            tuple(row)
            for row in conn.execute(
                sa.select(t.balances).where(t.balances.c.program_id == program.id)
            )
        )
    return {
        "counts": counts,
        "rerun": rerun,
        "shown": (shown_before, shown_after),
        "violations": violations,
        "entries": [{k: v for k, v in row._mapping.items() if k != "id"} for row in entries],
        "postings": postings,
        "consumptions": consumptions,
        "events": events,
        "lots": lots,
        "balances": balances,
    }


@pytest.mark.parametrize("limit", [1, 2, 500])
def test_the_set_based_expiry_writes_what_the_python_plan_writes(
    container: Container, clock: MutableClock, limit: int
) -> None:
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(plan=steps, later=later_)
    @example(plan=CASES, later=75)
    def check(plan: Any, later: int) -> None:
        clock.at = START
        program = new_program(container, slug=f"ref{next(_programs)}", config=CONFIG)
        members = [new_member(container, program) for _ in range(3)]
        _history(container, clock, program, members, plan)
        now = clock.now() + timedelta(days=later)
        reference = _outcome(container, program, expire_due_planned, now, limit)
        assert _outcome(container, program, expire_due, now, limit) == reference
        assert reference["violations"] == []
        assert reference["rerun"] == 0
        shown_before, shown_after = reference["shown"]
        assert shown_before == shown_after

    check()
    assert audit(container) == []


def test_expiry_racing_with_redemptions_keeps_the_books_balanced(
    container: Container, clock: MutableClock
) -> None:
    """The statements rely on the balance locks: redemptions committing while the job runs in
    small batches must neither be lost nor let a lot be both redeemed and expired."""
    clock.at = START
    program = new_program(container, slug=f"race{next(_programs)}", config=CONFIG)
    members = [new_member(container, program) for _ in range(6)]
    for member in members:
        for days_ago, amount in ((70, 30), (50, 20), (0, 25)):
            in_ledger(
                container,
                program,
                lambda c, m=member, d=days_ago, a=amount: ledger.earn(
                    c, m, wallet="points", amount=a, hold=False, occurred_at=START - timedelta(d)
                ),
            )
    now = START + timedelta(days=5)

    def work(i: int) -> Any:
        if i == 0:
            done = 0
            while batch := in_ledger(container, program, lambda c: expire_due(c, now, limit=2)):
                done += batch
            return done
        member = members[i % len(members)]
        return in_ledger(
            container, program, lambda c: ledger.debit(c, member, wallet="points", amount=15)
        )

    results = at_once(13, work)
    assert all(not isinstance(r, Exception) or isinstance(r, PatronError) for r in results)
    with container.engine.connect() as conn:
        due = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(t.ledger_lots.c.remaining), 0)).where(
                t.ledger_lots.c.program_id == program.id, t.ledger_lots.c.expires_at <= now
            )
        ).scalar_one()
    assert due == 0
    assert audit(container, program) == []
